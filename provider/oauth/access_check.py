"""Our own endpoints' view of an access token: signature, denylist and the live session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provider.context import Services
from provider.oauth.connected_apps import grant_denylist_key
from provider.oauth.issuance import CLIENT_DENYLIST_PREFIX, DENYLIST_PREFIX
from provider.sessions.access_tokens import InvalidAccessToken, verify_access_token
from provider.sessions.service import session_is_live
from provider.storage.db import default_connection
from provider.storage.models import Session, User
from provider.storage.session_reads import SessionReads
from provider.storage.unit_of_work import utcnow


@dataclass(frozen=True, slots=True)
class CheckedToken:
    claims: dict[str, Any]
    session: Session | None
    user: User | None


async def check_access_token(services: Services, token: str) -> CheckedToken:
    """Any audience is accepted here: these endpoints serve every client's tokens.

    Raises CacheUnavailable when the denylist cannot be read: a revoked token must not pass
    because Redis is down. Callers fail closed: introspection answers inactive, and anywhere else
    the adapters answer "temporarily unavailable" (provider.ops.unavailable).
    """
    settings = services.settings
    claims = verify_access_token(services.keystore, token, settings.issuer, audience=None)
    jti_denied, client_disabled_at, access_removed_at = await services.cache.strict().get_many(
        [
            DENYLIST_PREFIX + str(claims["jti"]),
            CLIENT_DENYLIST_PREFIX + str(claims.get("client_id")),
            grant_denylist_key(str(claims.get("client_id")), str(claims.get("sub"))),
        ],
    )
    if jti_denied is not None:
        raise InvalidAccessToken("revoked")
    if client_disabled_at is not None and int(claims.get("iat", 0)) <= float(client_disabled_at):
        raise InvalidAccessToken("client disabled")
    if access_removed_at is not None and int(claims.get("iat", 0)) <= float(access_removed_at):
        raise InvalidAccessToken("access removed by the user")
    sid = claims.get("sid")
    if not isinstance(sid, str):
        return CheckedToken(claims, None, None)
    session = await SessionReads(default_connection()).with_user(sid)
    if (
        session is None
        or str(session.user_id) != claims["sub"]
        or not session_is_live(session, settings, utcnow())
        or session.user.deleted_at is not None
    ):
        raise InvalidAccessToken("session ended")
    return CheckedToken(claims, session, session.user)
