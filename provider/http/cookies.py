"""The browser session cookie: `__Host-` prefixed and Secure when the issuer is https."""

from __future__ import annotations

from sanic import Request
from sanic.response import BaseHTTPResponse

from provider.config import Settings
from provider.crypto.tokens import token_hash
from provider.sessions.service import session_is_live
from provider.storage.db import default_connection
from provider.storage.models import Session
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import utcnow

SESSION_COOKIE = "sid"
CSRF_COOKIE = "csrf"
# The pending sign-in between the password and the second factor (an MFA challenge token).
MFA_COOKIE = "mfa"
# The passkey ceremony a hosted page started (its token), so only this browser can answer it.
PASSKEY_COOKIE = "passkey"


def cookie_name(settings: Settings, base: str) -> str:
    return f"__Host-{base}" if settings.secure_cookies else base


def set_cookie(
    response: BaseHTTPResponse, settings: Settings, base: str, value: str, max_age: int | None
) -> None:
    response.add_cookie(
        base,
        value,
        path="/",
        secure=settings.secure_cookies,
        host_prefix=settings.secure_cookies,
        httponly=True,
        samesite="Lax",
        max_age=max_age,
    )


def clear_cookie(response: BaseHTTPResponse, settings: Settings, base: str) -> None:
    response.delete_cookie(base, path="/", host_prefix=settings.secure_cookies)


async def browser_session(request: Request, settings: Settings) -> Session | None:
    """The live session the browser's cookie names, with its user, or None."""
    value = request.cookies.get(cookie_name(settings, SESSION_COOKIE))
    if not value or len(value) > 128:
        return None
    session = await SessionReads(default_connection()).by_cookie(token_hash(value))
    if session is None or session.user.deleted_at is not None:
        return None
    return session if session_is_live(session, settings, utcnow()) else None
