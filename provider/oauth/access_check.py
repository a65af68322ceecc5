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


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """A verified access token and the cache keys its check reads (`plan_access_check`)."""

    claims: dict[str, Any]
    keys: list[str]
    with_user: bool
    session_version_at: int | None
    client_version_at: int | None


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
    check = plan_access_check(services, token, with_user=with_user)
    return await complete_access_check(
        services, check, await services.cache.strict().get_many(check.keys)
    )


def plan_access_check(services: Services, token: str, *, with_user: bool) -> AccessCheck:
    """Verify the token (InvalidAccessToken if it is not ours, or expired) and list what its
    check reads from the cache: a caller may read those keys with its own, in one round trip."""
    claims = verify_access_token(services.keystore, token, services.settings.issuer, audience=None)
    subject = str(claims.get("sub"))
    keys = [
        DENYLIST_PREFIX + str(claims["jti"]),
        CLIENT_DENYLIST_PREFIX + str(claims.get("client_id")),
        grant_denylist_key(str(claims.get("client_id")), subject),
    ]
    session_version_at = client_version_at = None
    if isinstance(claims.get("sid"), str) and services.sessions.enabled:
        session_version_at = len(keys)
        keys.append(services.sessions.version_key(subject))
    if with_user and services.clients.enabled:
        # Userinfo looks the token's client up next: its version comes in the same round trip.
        client_version_at = len(keys)
        keys.append(services.clients.version_key(str(claims.get("client_id"))))
    return AccessCheck(claims, keys, with_user, session_version_at, client_version_at)


async def complete_access_check(
    services: Services, check: AccessCheck, values: list[str | None]
) -> CheckedToken:
    """`check_access_token` with the values of `check.keys`, read strictly (fail closed)."""
    claims, with_user = check.claims, check.with_user
    sid = claims.get("sid")
    subject = str(claims.get("sub"))
    jti_denied, client_disabled_at, access_removed_at = values[:3]
    client_version = (
        None if check.client_version_at is None else ReadVersion(values[check.client_version_at])
    )
    if jti_denied is not None:
        raise InvalidAccessToken("revoked")
    if client_disabled_at is not None and int(claims.get("iat", 0)) <= float(client_disabled_at):
        raise InvalidAccessToken("client disabled")
    if access_removed_at is not None and int(claims.get("iat", 0)) <= float(access_removed_at):
        raise InvalidAccessToken("access removed by the user")
    if not isinstance(sid, str):
        return CheckedToken(claims, None, client_version=client_version)
    now = utcnow()
    idle = timedelta(seconds=services.settings.session_idle_ttl)

    def live(facts: SessionFacts) -> bool:
        return facts.expires_at > now and facts.last_active_at + idle > now

    # A copy that looks expired or idle is read again: another request may have recorded
    # activity since it was made.
    facts = await services.sessions.current(
        sid,
        None if check.session_version_at is None else values[check.session_version_at],
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
