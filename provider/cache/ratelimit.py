"""Sliding-window rate limits: room left on an allowed request, `RateLimited` beyond the limit.

The HTTP adapters turn both into `Retry-After` and `X-RateLimit-*` headers (`provider.http.errors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from provider.cache.base import Cache
from provider.domain_errors import RateLimited
from provider.ops.metrics import RATE_LIMIT_HITS


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str
    limit: int
    window: int


@dataclass(frozen=True, slots=True)
class Allowance:
    """The room an allowed request leaves: `remaining` of `limit` in a window of `reset` s."""

    limit: int
    remaining: int
    reset: int


async def enforce(cache: Cache, limit: Limit, key: str) -> Allowance:
    """Count one request against `limit` for `key`; raise RateLimited beyond it."""
    result = await cache.hit_window(f"rl:{limit.scope}:{key}", limit.limit, limit.window)
    if not result.allowed:
        RATE_LIMIT_HITS.labels(scope=limit.scope).inc()
        raise RateLimited(max(math.ceil(result.retry_after), 1), limit.limit)
    return Allowance(limit.limit, max(limit.limit - result.count, 0), limit.window)
