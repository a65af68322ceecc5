"""The `roles` and `groups` claims: what the organisation's apps learn of a user's app roles.

Released only under the scope of the same name, which the client must be allowed and the user
must have granted. A client sees the roles its filter lets through: the names configured for it
when there is a list, else those starting with its prefix; with neither, every role. They are
read when a token is minted, so a change reaches the app at its next token or refresh.
"""

from __future__ import annotations

import uuid
from typing import Any

from provider.storage.app_access import AppAccess
from provider.storage.db import default_connection
from provider.storage.models import Client

APP_SCOPES = ("roles", "groups")


def visible_roles(client: Client, roles: list[str]) -> list[str]:
    if client.app_role_names is not None:
        allowed = set(client.app_role_names)
        return [role for role in roles if role in allowed]
    return [role for role in roles if role.startswith(client.app_role_prefix)]


async def app_claims(
    client: Client | None, user_id: uuid.UUID | str | None, scopes: list[str]
) -> dict[str, Any]:
    """The claims of the granted `roles`/`groups` scopes; nothing for a token without a user."""
    if user_id is None or client is None or not set(APP_SCOPES) & set(scopes):
        return {}
    access = await AppAccess(default_connection()).of_user(user_id)
    claims: dict[str, Any] = {}
    if "roles" in scopes:
        claims["roles"] = visible_roles(client, access.effective_roles)
    if "groups" in scopes:
        claims["groups"] = access.groups
    return claims
