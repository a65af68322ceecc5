"""Token revocation (RFC 7009): a refresh token ends its family, an access token is denied.

Whatever was presented, the caller learns nothing (RFC 7009 §2.2): a token that is unknown, not
the client's or already dead is simply ignored.
"""

from __future__ import annotations

import time

from provider.context import Caller, Services
from provider.oauth.issuance import DENYLIST_PREFIX
from provider.oauth.token_lookup import find_refresh_token, looks_like_jwt
from provider.sessions.access_tokens import InvalidAccessToken, verify_access_token
from provider.storage.models import Client
from provider.storage.refresh_families import RefreshFamilies
from provider.storage.unit_of_work import unit_of_work, utcnow


async def revoke_token(services: Services, caller: Caller, client: Client, token: str) -> None:
    if looks_like_jwt(token):
        await _deny_access_token(services, client, token)
    else:
        await _revoke_family(services, caller, client, token)


async def _revoke_family(services: Services, caller: Caller, client: Client, token: str) -> None:
    row = await find_refresh_token(token)
    if row is None or row.client_id != client.id:
        return
    async with unit_of_work(caller, services.events) as work:
        revoked = await RefreshFamilies(work).revoke_family(
            row.family_id, reason="revoked_by_client", now=utcnow()
        )
        if revoked:
            await work.audit(
                "token.revoked",
                user_id=row.user_id,
                session_id=row.session_id,
                client_id=client.id,
                details={"family_id": str(row.family_id)},
            )


async def _deny_access_token(services: Services, client: Client, token: str) -> None:
    settings = services.settings
    try:
        claims = verify_access_token(services.keystore, token, settings.issuer, audience=None)
    except InvalidAccessToken:
        return
    if claims.get("client_id") != client.id:
        return
    remaining = int(claims["exp"]) - int(time.time())
    if remaining <= 0:
        return
    # Into Redis or not at all: a revocation kept in one worker's memory is lost for the others.
    # When Redis is unreachable, CacheUnavailable propagates and the endpoint answers "try again
    # later"; RFC 7009 §2.2.1: the client then assumes the token still exists and retries.
    await services.cache.strict().set(
        DENYLIST_PREFIX + str(claims["jti"]), "revoked", remaining + 5
    )
