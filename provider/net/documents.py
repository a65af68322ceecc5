"""Fetched documents (client JWKS), cached per worker with one fetch at a time per URI.

- Fresh for the document's `Cache-Control: max-age`, clamped to MIN_TTL..MAX_TTL (DEFAULT_TTL
  when it sends none), so a server cannot make us refetch on every request nor pin a key for ever.
- Concurrent requests for the same URI share one fetch (single flight).
- A caller that needs newer keys (an unknown `kid`) gets a refetch at most once per
  REFETCH_INTERVAL per URI: naming a client with a made-up kid cannot drive a fetch per request.
- A failure is remembered for NEGATIVE_TTL: the next requests fail at once instead of fetching.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from provider.net.outbound import FetchedJson, OutboundError

MIN_TTL = 60.0
MAX_TTL = 86_400.0
DEFAULT_TTL = 300.0
NEGATIVE_TTL = 30.0
REFETCH_INTERVAL = 60.0
MAX_ENTRIES = 1000

Fetch = Callable[[str], Awaitable[FetchedJson]]


@dataclass(frozen=True, slots=True)
class _Entry:
    fetched_at: float
    fresh_until: float
    document: dict[str, Any]
    error: OutboundError | None


class DocumentCache:
    """Per worker: a fetch more per worker is cheap, and nothing here must be shared."""

    def __init__(self, fetch: Fetch, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._inflight: dict[str, asyncio.Task[_Entry]] = {}

    async def get(self, uri: str, *, refresh: bool = False) -> dict[str, Any]:
        """The document at `uri`; `refresh` asks for a newer copy (rate-limited per URI)."""
        entry = self._entries.get(uri)
        now = self._clock()
        if entry is not None and not self._should_fetch(entry, now, refresh):
            return _result(entry)
        task = self._inflight.get(uri)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._load(uri))
            self._inflight[uri] = task
            task.add_done_callback(lambda _: self._inflight.pop(uri, None))
        # shield: a caller that gives up does not cancel the fetch the others wait for.
        return _result(await asyncio.shield(task))

    def _should_fetch(self, entry: _Entry, now: float, refresh: bool) -> bool:
        if now >= entry.fresh_until:
            return True
        return refresh and entry.error is None and now - entry.fetched_at >= REFETCH_INTERVAL

    async def _load(self, uri: str) -> _Entry:
        try:
            fetched = await self._fetch(uri)
        except OutboundError as exc:
            now = self._clock()
            entry = _Entry(now, now + NEGATIVE_TTL, {}, exc)
        else:
            now = self._clock()
            ttl = DEFAULT_TTL if fetched.max_age is None else fetched.max_age
            entry = _Entry(now, now + min(max(ttl, MIN_TTL), MAX_TTL), fetched.document, None)
        self._entries.pop(uri, None)
        self._entries[uri] = entry
        while len(self._entries) > MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
        return entry


def _result(entry: _Entry) -> dict[str, Any]:
    if entry.error is not None:
        # A fresh instance each time: one kept exception would grow a traceback per raise.
        raise type(entry.error)(str(entry.error))
    return entry.document
