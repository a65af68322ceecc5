"""Sliding-window rate limits with 429, `Retry-After` and `X-RateLimit-*` headers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from provider.cache.base import Cache
from provider.errors import ApiError
from provider.ops.metrics import RATE_LIMIT_HITS


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str
    limit: int
    window: int


class RateLimited(ApiError):
    def __init__(self, limit: Limit, retry_after: float) -> None:
        seconds = max(math.ceil(retry_after), 1)
        super().__init__(
            429,
            "rate_limited",
            "Too many requests; try again later.",
            details={"retry_after": seconds},
            headers={
                "Retry-After": str(seconds),
                "X-RateLimit-Limit": str(limit.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(seconds),
            },
        )


async def enforce(cache: Cache, limit: Limit, key: str) -> dict[str, str]:
    """Count one request against `limit` for `key`; raise RateLimited beyond it.

    Returns the headers that tell the caller how much room is left.
    """
    result = await cache.hit_window(f"rl:{limit.scope}:{key}", limit.limit, limit.window)
    if not result.allowed:
        RATE_LIMIT_HITS.labels(scope=limit.scope).inc()
        raise RateLimited(limit, result.retry_after)
    return {
        "X-RateLimit-Limit": str(limit.limit),
        "X-RateLimit-Remaining": str(max(limit.limit - result.count, 0)),
        "X-RateLimit-Reset": str(limit.window),
    }
