"""Refused admin access, audited without letting a caller flood the audit trail.

Any signed-in user can call an admin route and be refused; one fuzzing run wrote 10,713
`admin.forbidden` rows. Refusals are counted per (user, route family) in fixed intervals of
`PROVIDER_AUDIT_REFUSAL_INTERVAL` seconds: the first refusal of an interval writes a row, the rest
are only counted. The next row written for that user and family carries, in `details.suppressed`,
how many refusals were not written since the previous row, so rows plus `suppressed` add up to
every refusal (refusals racing an interval's boundary may be left out of the count).
"""

from __future__ import annotations

import time

from provider.context import Caller, Services
from provider.storage.models import Session, User
from provider.storage.unit_of_work import unit_of_work

# How long an interval's count waits to be reported by the next row.
COUNT_RETENTION = 7 * 86_400
MAX_FAMILY_LENGTH = 64


def route_family(path: str) -> str:
    """The part of a path that names what was asked for, without ids or actions.

    `/v1/admin/users/<id>/restore` and `/v1/admin/users` are both `v1/admin/users`;
    `/admin/users/<id>` is `admin/users`.
    """
    parts = [part for part in path.split("/") if part]
    depth = 3 if parts[:1] == ["v1"] else 2
    return "/".join(parts[:depth])[:MAX_FAMILY_LENGTH]


async def audit_refusal(
    services: Services,
    caller: Caller,
    user: User,
    session: Session | None,
    method: str,
    path: str,
) -> bool:
    """Count one refused admin request; write its `admin.forbidden` row if it is the first of
    the interval for this user and route family. True if a row was written."""
    cache = services.cache
    interval = services.settings.audit_refusal_interval
    prefix = f"refusal:{user.id}:{route_family(path)}"
    bucket = int(time.time()) // interval
    if await cache.incr(f"{prefix}:{bucket}", COUNT_RETENTION) != 1:
        return False
    suppressed = await _unreported(services, prefix)
    await cache.set(f"{prefix}:last", str(bucket), COUNT_RETENTION)
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            "admin.forbidden",
            outcome="failure",
            user_id=user.id,
            session_id=session.id if session else None,
            details={
                "role": user.role,
                "method": method,
                "path": path[:256],
                "suppressed": suppressed,
            },
        )
    return True


async def _unreported(services: Services, prefix: str) -> int:
    """Refusals counted after the previous row of this user and family, not written."""
    last = await services.cache.get(f"{prefix}:last")
    if last is None:
        return 0
    count = await services.cache.get(f"{prefix}:{last}")
    return max(int(count) - 1, 0) if count is not None else 0
