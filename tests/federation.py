"""Helpers for upstream sign-in tests: register the fake upstream, walk through it."""

from __future__ import annotations

from typing import Any

import httpx

from provider.config import DEV_SECRET_KEY
from provider.crypto.sealing import seal
from provider.federation.providers import SEALING_PURPOSE
from provider.storage.models import AuditEvent, IdentityProvider
from tests.fake_upstream import CLIENT_ID, CLIENT_SECRET, Upstream
from tests.oidc import Browser


async def add_upstream(
    upstream: Upstream, slug: str = "fake", *, secret_key: str = DEV_SECRET_KEY, **flags: Any
) -> IdentityProvider:
    """The fake as an OIDC provider (or, with kind="oauth2", as GitHub), stored directly; its
    client secret sealed under `secret_key`, the server's PROVIDER_SECRET_KEY."""
    kind = flags.pop("kind", "oidc")
    endpoints: dict[str, Any]
    if kind == "oidc":
        endpoints = {"issuer": upstream.url, "scopes": ["openid", "email", "profile"]}
    else:
        endpoints = {
            "authorize_url": f"{upstream.url}/login/oauth/authorize",
            "token_url": f"{upstream.url}/login/oauth/access_token",
            "userinfo_url": f"{upstream.url}/user",
            "emails_url": f"{upstream.url}/user/emails",
            "claims": {"sub": "id", "name": "name", "email": "email"},
            "scopes": ["read:user", "user:email"],
        }
    values = {
        "name": flags.pop("name", "Fake Upstream"),
        "kind": kind,
        "client_id": CLIENT_ID,
        "client_secret_sealed": seal(
            secret_key.encode(), CLIENT_SECRET, purpose=SEALING_PURPOSE, context=slug
        ),
        **endpoints,
        **flags,
    }
    return await IdentityProvider.create(slug=slug, **values)


async def through_upstream(browser: Browser, response: httpx.Response) -> httpx.Response:
    """From our redirect to the upstream, through its (automatic) approval, back to the
    callback and on through our pages until the next page or the redirect to the client."""
    assert response.status_code == 303, (response.status_code, response.text[:800])
    async with httpx.AsyncClient(timeout=30) as outside:
        approved = await outside.get(response.headers["location"])
    assert approved.status_code == 302, approved.text
    callback = approved.headers["location"]
    return await browser.follow(await browser.http.get(callback))


async def start_upstream(browser: Browser, slug: str = "fake", **query: str) -> httpx.Response:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return await browser.http.get(f"/login/idp/{slug}" + (f"?{params}" if params else ""))


async def audit_events() -> list[tuple[str, str, dict[str, Any]]]:
    rows = await AuditEvent.all().order_by("id")
    return [(row.event, row.outcome, row.details) for row in rows]


def failures(events: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [details for event, _, details in events if event == "user.login_failed"]
