"""The `roles` and `groups` claims: what the organisation's apps learn of a user's app roles.

Released only under the scope of the same name, which the client must be allowed and the user
must have granted. A client sees the roles, and the groups, its filters let through: the names
configured for it when there is a list, else those starting with its prefix; with neither, every
role or group of the user. They are read when a token is minted, so a change reaches the app at
its next token or refresh.
"""

from __future__ import annotations

import uuid
from typing import Any

from provider.storage.app_access import AppAccess
from provider.storage.db import default_connection
from provider.storage.models import Client

APP_SCOPES = ("roles", "groups")


def _visible(names: list[str], listed: list[str] | None, prefix: str) -> list[str]:
    if listed is not None:
        allowed = set(listed)
        return [name for name in names if name in allowed]
    return [name for name in names if name.startswith(prefix)]


async def app_claims(
    client: Client | None, user_id: uuid.UUID | str | None, scopes: list[str]
) -> dict[str, Any]:
    """The claims of the granted `roles`/`groups` scopes; nothing for a token without a user."""
    if user_id is None or client is None or not set(APP_SCOPES) & set(scopes):
        return {}
    access = await AppAccess(default_connection()).of_user(user_id)
    claims: dict[str, Any] = {}
    if "roles" in scopes:
        claims["roles"] = _visible(
            access.effective_roles, client.app_role_names, client.app_role_prefix
        )
    if "groups" in scopes:
        claims["groups"] = _visible(access.groups, client.app_group_names, client.app_group_prefix)
    return claims
