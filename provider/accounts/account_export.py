"""Export my data: everything the provider holds about the signed-in user, as one document."""

from __future__ import annotations

from typing import Any

from provider.accounts.passkeys import passkeys_of
from provider.accounts.profile import public_profile
from provider.accounts.users import public_user
from provider.sessions.devices import describe_device
from provider.storage.account_export import AccountExport
from provider.storage.app_access import AppAccess
from provider.storage.db import default_connection
from provider.storage.models import User


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def export_account(user: User) -> dict[str, Any]:
    """Profile, passkeys, sessions (ended ones too), consents, app roles and the audit rows about
    the user.
    Secrets (password hash, TOTP secret, token hashes) are not personal data to hand out."""
    conn = default_connection()
    store = AccountExport(conn)
    access = await AppAccess(conn).of_user(user.id)
    return {
        "user": public_user(user),
        "profile": public_profile(user),
        "two_factor": user.totp_enabled_at is not None,
        # Names and dates only: a credential id and public key identify a device, not the user.
        "passkeys": [item.to_dict() for item in await passkeys_of(user.id)],
        "app_access": {"roles": access.effective_roles, "groups": access.groups},
        "sessions": [
            {
                "id": str(session.id),
                "device": describe_device(session.user_agent),
                "user_agent": session.user_agent,
                "ip": session.ip,
                "created_at": _iso(session.created_at),
                "last_active_at": _iso(session.last_active_at),
                "revoked_at": _iso(session.revoked_at),
            }
            for session in await store.sessions(user.id)
        ],
        "consents": [
            {
                "client_id": consent.client_id,
                "scopes": consent.scopes,
                "granted_at": _iso(consent.created_at),
                "updated_at": _iso(consent.updated_at),
            }
            for consent in await store.consents(user.id)
        ],
        "audit": [
            {
                "time": _iso(event.created_at),
                "event": event.event,
                "outcome": event.outcome,
                "client_id": event.client_id,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "details": event.details,
            }
            for event in await store.audit(user.id)
        ],
    }
