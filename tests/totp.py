"""TOTP in tests: codes computed with pyotp, and enrolment and MFA login through the JSON API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp

from provider.storage.models import User
from tests.support import PASSWORD, bearer


def totp_code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def current_step() -> int:
    return int(time.time()) // 30


async def fresh_totp_code(secret: str, user_id: str) -> str:
    """A code the server has not seen: the current step, or the next one after the last used.

    The server accepts one step of drift either way; past that, the test rewinds the stored step
    instead of sleeping through a whole 30-second window.
    """
    last = (await User.get(id=user_id)).totp_last_step
    step = current_step() if last is None else max(current_step(), last + 1)
    if step > current_step() + 1:
        await User.filter(id=user_id).update(totp_last_step=current_step() - 1)
        step = current_step()
    return totp_code(secret, step)


async def enrol_totp(http: httpx.AsyncClient, tokens: dict[str, Any]) -> tuple[str, list[str]]:
    """Turn TOTP on for the signed-in user: (the secret, the backup codes)."""
    started = await http.post("/v1/auth/mfa/totp", headers=bearer(tokens))
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    code = totp_code(secret, current_step())
    confirmed = await http.post(
        "/v1/auth/mfa/totp/confirm", json={"code": code}, headers=bearer(tokens)
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["backup_codes"]
    return secret, codes


async def start_mfa_login(
    http: httpx.AsyncClient,
    identifier: str = "ada@example.com",
    password: str = PASSWORD,
    **headers: str,
) -> str:
    """POST /v1/auth/sessions for a user with TOTP on; returns the mfa_token."""
    response = await http.post(
        "/v1/auth/sessions", json={"identifier": identifier, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfa_required"] is True, body
    token: str = body["mfa_token"]
    return token
