"""Protected routes: a valid access token AND a live server-side session, checked every time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sanic import Request

from provider.http.bearer import bearer_token
from provider.http.context import services_of
from provider.http.errors import unauthorized
from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
from provider.sessions.access_tokens import InvalidAccessToken, verify_access_token
from provider.sessions.service import session_is_live
from provider.storage.db import default_connection
from provider.storage.models import Session, User
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import utcnow


@dataclass(frozen=True, slots=True)
class Authenticated:
    claims: dict[str, Any]
    session: Session
    user: User


async def require_session(request: Request) -> Authenticated:
    """Verify the JWT, then the session it names: a revoked session fails before expiry."""
    services = services_of(request)
    settings = services.settings
    token = bearer_token(request)
    if token is None:
        raise unauthorized()
    try:
        claims = verify_access_token(
            services.keystore, token, settings.issuer, settings.api_audience
        )
    except InvalidAccessToken as exc:
        raise unauthorized("The access token is invalid or expired.", "invalid_token") from exc
    # The audience alone is not trusted: only the first-party app's own tokens reach this API,
    # whatever an OAuth client was granted (a first_party OAuth client only skips consent).
    if claims.get("client_id") != FIRST_PARTY_CLIENT_ID:
        raise unauthorized("The access token is not for this API.", "invalid_token")
    session = None
    if isinstance(claims.get("sid"), str):
        session = await SessionReads(default_connection()).with_user(claims["sid"])
    now = utcnow()
    if (
        session is None
        or str(session.user_id) != claims["sub"]
        or not session_is_live(session, settings, now)
        or session.user.deleted_at is not None
    ):
        raise unauthorized("The session has ended; sign in again.", "session_revoked")
    # Unrecorded activity counts for nothing against the idle timeout: write often enough that
    # a user active more often than the timeout keeps the session, whatever the interval says.
    await _touch(session, min(settings.session_touch_interval, settings.session_idle_ttl // 4))
    return Authenticated(claims, session, session.user)


async def _touch(session: Session, interval: int) -> None:
    """Record activity at most once per interval, so reads do not write on every request."""
    now = utcnow()
    if now - session.last_active_at < timedelta(seconds=interval):
        return
    await SessionReads(default_connection()).touch_if_unchanged(session, now)
