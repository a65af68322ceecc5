"""The body of /v1/auth answers that hand the first-party app its tokens (login, refresh)."""

from __future__ import annotations

from typing import Any

from sanic.response import HTTPResponse

from provider.accounts.second_factor import answer_methods
from provider.accounts.sign_in import Authenticated, SecondFactorRequired
from provider.accounts.users import public_user
from provider.context import Services
from provider.http.errors import rate_limit_headers
from provider.http.responses import ok
from provider.oauth.first_party import FirstPartyTokens, tokens_for_login
from provider.sessions.devices import describe_device
from provider.storage.models import Session


async def sign_in_answer(
    services: Services, outcome: Authenticated | SecondFactorRequired
) -> HTTPResponse:
    """What a first-party sign-in (password or passkey) answers: the tokens, or the challenge
    that stands for the first factor until the second is given; with the limit's headers."""
    headers = rate_limit_headers(outcome.allowance)
    if isinstance(outcome, SecondFactorRequired):
        return ok(
            {
                "mfa_required": True,
                "mfa_token": outcome.challenge,
                "methods": await answer_methods(outcome.user),
                "expires_in": services.settings.mfa_token_ttl,
            },
            headers=headers,
        )
    return ok(login_response(await tokens_for_login(services, outcome.login)), headers=headers)


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
