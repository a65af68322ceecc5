"""The body of /v1/auth answers that hand the first-party app its tokens (login, refresh)."""

from __future__ import annotations

from typing import Any

from provider.accounts.users import public_user
from provider.oauth.first_party import FirstPartyTokens
from provider.sessions.devices import describe_device
from provider.storage.models import Session


def login_response(tokens: FirstPartyTokens) -> dict[str, Any]:
    """The token pair, the user and the session, as the first-party app reads them."""
    return {
        "access_token": tokens.access.value,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": tokens.access.expires_in,
        "user": public_user(tokens.user),
        "session": public_session(tokens.session, current=True),
    }


def public_session(session: Session, *, current: bool) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "device": describe_device(session.user_agent),
        "user_agent": session.user_agent,
        "ip": session.ip,
        "created_at": session.created_at.isoformat(),
        "last_active_at": session.last_active_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        "current": current,
    }
