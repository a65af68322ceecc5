"""InitialAccessTokens contract: a token is spent one use at a time while it has uses and has
not expired, concurrent registrations never spend more uses than it has, and it can be removed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from provider.crypto.tokens import new_token, token_hash
from provider.storage.db import default_connection
from provider.storage.initial_access_tokens import InitialAccessTokens
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher


async def _minted(uses: int, ttl: int = 600) -> str:
    digest = token_hash(new_token())
    now = utcnow()
    await InitialAccessTokens(default_connection()).add(
        digest,
        uses=uses,
        expires_at=now + timedelta(seconds=ttl),
        note="ci",
        created_by="cli",
        now=now,
    )
    return digest


async def test_each_spend_takes_one_use_until_none_is_left(backend: str) -> None:
    digest = await _minted(uses=2)
    store = InitialAccessTokens(default_connection())
    assert await store.spend(digest, utcnow())
    assert await store.spend(digest, utcnow())
    assert not await store.spend(digest, utcnow())
    (row,) = await store.listed()
    assert (row.uses_left, row.note, row.created_by) == (0, "ci", "cli")


async def test_an_expired_or_unknown_token_is_not_spent(backend: str) -> None:
    digest = await _minted(uses=3, ttl=60)
    store = InitialAccessTokens(default_connection())
    assert not await store.spend(digest, utcnow() + timedelta(seconds=61))
    assert not await store.spend(token_hash("never-minted"), utcnow())
    (row,) = await store.listed()
    assert row.uses_left == 3


async def test_concurrent_spenders_never_take_more_uses_than_there_are(
    backend: str, publisher: RecordingPublisher
) -> None:
    digest = await _minted(uses=3)

    async def spend() -> bool:
        async with unit_of_work(CALLER, publisher) as work:
            return await InitialAccessTokens(work.conn).spend(digest, utcnow())

    results = await asyncio.gather(*(spend() for _ in range(10)))
    assert sorted(results) == [False] * 7 + [True] * 3


async def test_a_removed_token_is_gone(backend: str) -> None:
    digest = await _minted(uses=1)
    store = InitialAccessTokens(default_connection())
    (row,) = await store.listed()
    assert await store.remove(row.id)
    assert not await store.remove(row.id)
    assert not await store.spend(digest, utcnow())
