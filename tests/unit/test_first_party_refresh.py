"""The first-party refresh use case counts its per-address limit itself, before it reads the
token: an adapter cannot reach the rotation without the arrival being counted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from provider.cache.memory import MemoryCache
from provider.config import Settings
from provider.context import Caller
from provider.domain_errors import RateLimited
from provider.oauth.first_party import refresh_first_party

CALLER = Caller(ip="192.0.2.9", user_agent="test", request_id="r1")


class Unreadable(Exception):
    """A body the adapter could not parse."""


async def test_the_arrival_is_counted_before_the_token_is_read() -> None:
    services: Any = SimpleNamespace(
        cache=MemoryCache(), settings=Settings(ratelimit_refresh_per_ip=2, ratelimit_window=60)
    )
    reads: list[str] = []

    def unreadable() -> str:
        reads.append("read")
        raise Unreadable

    for _ in range(2):
        with pytest.raises(Unreadable):
            await refresh_first_party(services, CALLER, unreadable)
    with pytest.raises(RateLimited) as refused:
        await refresh_first_party(services, CALLER, unreadable)
    assert (refused.value.limit, refused.value.retry_after > 0) == (2, True)
    assert reads == ["read", "read"]
    # Another address has its own window.
    other = Caller(ip="192.0.2.10", user_agent="test", request_id="r2")
    with pytest.raises(Unreadable):
        await refresh_first_party(services, other, unreadable)
