"""The admin API (/v1/admin/…): users, user actions, clients, resource servers, identity
providers, audit trail, stats."""

from __future__ import annotations

from provider.api.admin import (
    app_roles,
    audit,
    clients,
    idps,
    registration_tokens,
    resources,
    stats,
    user_actions,
    user_passkeys,
    users,
)

BLUEPRINTS = (
    users.bp,
    user_actions.bp,
    user_passkeys.bp,
    clients.bp,
    resources.bp,
    idps.bp,
    audit.bp,
    stats.bp,
    app_roles.bp,
    registration_tokens.bp,
)
