"""Who may call the admin API: a live session (provider.api.guard) whose user has the role."""

from __future__ import annotations

from sanic import Request

from provider.accounts.refusals import audit_refusal
from provider.api.guard import Authenticated, require_session
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "Your role does not allow this.")


async def require_role(request: Request, *roles: str) -> Authenticated:
    """The caller, if their session is live and their role is one of `roles`; else 401/403."""
    auth = await require_session(request)
    if auth.user.role not in roles:
        await audit_refusal(
            services_of(request),
            caller_of(request),
            auth.user,
            auth.session,
            request.method,
            request.path,
        )
        raise forbidden()
    return auth
