"""The token pair the first-party API hands out after a login or a refresh."""

from __future__ import annotations

from typing import Any

from provider.accounts.login import CompletedLogin
from provider.accounts.users import public_user
from provider.context import Services
from provider.sessions.access_tokens import AccessGrant, mint_access_token
from provider.sessions.devices import describe_device
from provider.storage.models import Session, User

FIRST_PARTY_CLIENT_ID = "first-party"


def token_pair(
    services: Services, user: User, session: Session, refresh_token: str
) -> dict[str, Any]:
    settings = services.settings
    grant = AccessGrant(
        subject=str(user.id),
        client_id=FIRST_PARTY_CLIENT_ID,
        scope="",
        session_id=str(session.id),
        auth_time=int(session.auth_time.timestamp()),
        audience=settings.api_audience,
    )
    return {
        "access_token": mint_access_token(
            services.keystore, settings.issuer, settings.access_token_ttl, grant
        ).value,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": settings.access_token_ttl,
        "user": public_user(user),
        "session": public_session(session, current=True),
    }


def login_response(services: Services, completed: CompletedLogin) -> dict[str, Any]:
    """The body of a successful API login, with or without a second factor."""
    assert completed.refresh_token is not None, "API logins always issue a refresh token"
    return token_pair(services, completed.user, completed.session, completed.refresh_token)


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
