"""Who may call the admin API: a live session (provider.api.guard) whose user has the role."""

from __future__ import annotations

from sanic import Request

from provider.api.common import caller_of, services_of
from provider.api.guard import Authenticated, require_session
from provider.context import Caller, Services
from provider.errors import ApiError
from provider.storage.models import Session, User
from provider.storage.unit_of_work import unit_of_work

ADMIN = ("admin",)
# Auditors read users and the audit trail; they change nothing.
READERS = ("admin", "auditor")


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "Your role does not allow this.")


async def audit_forbidden(
    services: Services, caller: Caller, user: User, session: Session | None, method: str, path: str
) -> None:
    """The `admin.forbidden` row (outcome failure) for a refused attempt."""
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            "admin.forbidden",
            outcome="failure",
            user_id=user.id,
            session_id=session.id if session else None,
            details={"role": user.role, "method": method, "path": path[:256]},
        )


async def require_role(request: Request, *roles: str) -> Authenticated:
    """The caller, if their session is live and their role is one of `roles`; else 401/403."""
    auth = await require_session(request)
    if auth.user.role not in roles:
        await audit_forbidden(
            services_of(request),
            caller_of(request),
            auth.user,
            auth.session,
            request.method,
            request.path,
        )
        raise forbidden()
    return auth
