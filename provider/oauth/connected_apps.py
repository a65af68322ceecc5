"""The apps a user has connected, and removing one's access.

Removing an app's access undoes its consent: the consent is deleted (the next authorization asks
again), every refresh token the app holds for the user is revoked, and the access tokens it holds
now are refused by our endpoints until they expire (a cache entry, checked by
`provider.oauth.access_check`).
"""

from __future__ import annotations

import time
import uuid

from provider.context import Caller, Services
from provider.domain_errors import NotFound
from provider.oauth.clients import find_client
from provider.storage.connected_apps import ConnectedApp, ConnectedApps
from provider.storage.consents import Consents
from provider.storage.db import default_connection
from provider.storage.models import Session, User
from provider.storage.refresh_families import RefreshFamilies
from provider.storage.unit_of_work import unit_of_work, utcnow

GRANT_DENYLIST_PREFIX = "deny:grant:"


def grant_denylist_key(client_id: str, user_id: uuid.UUID | str) -> str:
    """The cache key holding when the user removed the client's access (a Unix time)."""
    return f"{GRANT_DENYLIST_PREFIX}{client_id}:{user_id}"


async def connected_apps(user: User) -> list[ConnectedApp]:
    return await ConnectedApps(default_connection()).of_user(user.id)


async def remove_app_access(
    services: Services, caller: Caller, user: User, session: Session | None, client_id: str
) -> int:
    """Delete the consent, revoke the app's tokens for the user; how many refresh tokens were
    live. NotFound when the user never connected the app (or already removed it)."""
    async with unit_of_work(caller, services.events) as work:
        if not await Consents(work.conn).forget(user.id, client_id):
            raise NotFound("You have not connected this app.")
        revoked = await RefreshFamilies(work).revoke_user_client(
            user.id, client_id, reason="access_removed", now=utcnow()
        )
        await work.audit(
            "consent.revoked",
            user_id=user.id,
            session_id=session.id if session is not None else None,
            client_id=client_id,
            details={"revoked_refresh_tokens": revoked},
        )
    await _deny_access_tokens(services, client_id, user.id)
    return revoked


async def _deny_access_tokens(services: Services, client_id: str, user_id: uuid.UUID) -> None:
    """Written even through a Redis outage (kept, then written once Redis answers), as for a
    disabled client: the refresh tokens are gone for good already."""
    client = await find_client(client_id, include_disabled=True)
    client_ttl = client.access_token_ttl if client is not None else None
    ttl = max(client_ttl or 0, services.settings.access_token_ttl)
    await services.cache.set_eventually(
        grant_denylist_key(client_id, user_id), str(time.time()), ttl + 5
    )
