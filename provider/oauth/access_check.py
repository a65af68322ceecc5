"""Our own endpoints' view of an access token: signature, denylist and the live session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from provider.cache.local_copies import ReadVersion
from provider.context import Services
from provider.oauth.connected_apps import grant_denylist_key
from provider.oauth.issuance import CLIENT_DENYLIST_PREFIX, DENYLIST_PREFIX
from provider.sessions.access_tokens import InvalidAccessToken, verify_access_token
from provider.storage.db import default_connection
from provider.storage.models import User
from provider.storage.session_reads import SessionFacts, SessionReads
from provider.storage.unit_of_work import utcnow
from provider.storage.users import Users


@dataclass(frozen=True, slots=True)
class CheckedToken:
    claims: dict[str, Any]
    user: User | None
    username: str | None = None
    # The version of this worker's copy of the token's client, when read (userinfo).
    client_version: ReadVersion | None = None


async def check_access_token(
    services: Services, token: str, *, with_user: bool = True
) -> CheckedToken:
    """Any audience is accepted here: these endpoints serve every client's tokens.

    The session is checked in this worker's copy of its facts while the version of its user's
    sessions, read with the denylist in one round trip, has not moved: every end of a session
    moves it on once its transaction has committed (`UnitOfWork.sessions_changed`), so a revoked
    session is refused at once by every worker of every instance. `with_user` (userinfo) also
    reads the user's row, whose claims must be current.

    Raises CacheUnavailable when the denylist cannot be read: a revoked token must not pass
    because Redis is down. Callers fail closed: introspection answers inactive, and anywhere else
    the adapters answer "temporarily unavailable" (provider.ops.unavailable).
    """
    settings = services.settings
    claims = verify_access_token(services.keystore, token, settings.issuer, audience=None)
    sid = claims.get("sid")
    subject = str(claims.get("sub"))
    keys = [
        DENYLIST_PREFIX + str(claims["jti"]),
        CLIENT_DENYLIST_PREFIX + str(claims.get("client_id")),
        grant_denylist_key(str(claims.get("client_id")), subject),
    ]
    copies = services.sessions
    session_version_at = client_version_at = None
    if isinstance(sid, str) and copies.enabled:
        session_version_at = len(keys)
        keys.append(copies.version_key(subject))
    if with_user and services.clients.enabled:
        # Userinfo looks the token's client up next: its version comes in the same round trip.
        client_version_at = len(keys)
        keys.append(services.clients.version_key(str(claims.get("client_id"))))
    values = await services.cache.strict().get_many(keys)
    jti_denied, client_disabled_at, access_removed_at = values[:3]
    client_version = None if client_version_at is None else ReadVersion(values[client_version_at])
    if jti_denied is not None:
        raise InvalidAccessToken("revoked")
    if client_disabled_at is not None and int(claims.get("iat", 0)) <= float(client_disabled_at):
        raise InvalidAccessToken("client disabled")
    if access_removed_at is not None and int(claims.get("iat", 0)) <= float(access_removed_at):
        raise InvalidAccessToken("access removed by the user")
    if not isinstance(sid, str):
        return CheckedToken(claims, None, client_version=client_version)
    now = utcnow()
    idle = timedelta(seconds=settings.session_idle_ttl)

    def live(facts: SessionFacts) -> bool:
        return facts.expires_at > now and facts.last_active_at + idle > now

    # A copy that looks expired or idle is read again: another request may have recorded
    # activity since it was made.
    facts = await copies.current(
        sid,
        None if session_version_at is None else values[session_version_at],
        lambda: SessionReads(default_connection()).access_facts(sid),
        usable=live,
    )
    if facts is None or facts.user_id != subject or not live(facts):
        raise InvalidAccessToken("session ended")
    if not with_user:
        return CheckedToken(claims, None, facts.username)
    user = await Users(default_connection()).by_id(uuid.UUID(subject))
    if user is None or user.deleted_at is not None:
        raise InvalidAccessToken("session ended")
    return CheckedToken(claims, user, user.username, client_version)
