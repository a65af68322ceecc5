"""Best-effort pub/sub of security events on `auth:<event>`; never fails the request."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from provider.cache.base import Cache, CacheUnavailable
from provider.ops.metrics import EVENTS_DROPPED

log = logging.getLogger("provider.events")
CHANNEL_PREFIX = "auth:"


class EventPublisher:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def cache(self) -> Cache:
        return self._cache

    def publish(self, event: str, payload: dict[str, Any]) -> None:
        """Send in the background: the response does not wait for Redis."""
        task = asyncio.get_running_loop().create_task(self._send(event, payload))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, event: str, payload: dict[str, Any]) -> None:
        message = orjson.dumps({"event": event, **payload}, default=str).decode()
        try:
            await self._cache.publish(CHANNEL_PREFIX + event, message)
        except (CacheUnavailable, OSError) as exc:
            EVENTS_DROPPED.inc()
            log.warning("event not published", extra={"event": event, "err": str(exc)})

    async def drain(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
