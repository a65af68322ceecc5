"""Helpers for the admin tests: accounts with a role, signed in through the JSON API."""

from __future__ import annotations

from typing import Any

import httpx

from provider.storage.models import User
from tests.support import PASSWORD, bearer, login, register


async def account(
    http: httpx.AsyncClient, email: str, role: str = "user", **extra: Any
) -> dict[str, Any]:
    """A registered user whose role is set directly in the database."""
    user = await register(http, email=email, **extra)
    if role != "user":
        await User.filter(id=user["id"]).update(role=role)
        user["role"] = role
    return user


async def signed_in(
    http: httpx.AsyncClient, email: str, role: str = "user", **extra: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """A new account with `role`, signed in: the user and its Authorization header."""
    user = await account(http, email, role, **extra)
    return user, bearer(await login(http, email, PASSWORD))


async def admin(http: httpx.AsyncClient, email: str = "root@example.com") -> dict[str, str]:
    return (await signed_in(http, email, "admin"))[1]


async def auditor(http: httpx.AsyncClient, email: str = "audit@example.com") -> dict[str, str]:
    return (await signed_in(http, email, "auditor"))[1]
