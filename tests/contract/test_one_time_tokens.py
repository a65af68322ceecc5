"""OneTimeTokens contract: a token is found only while usable, consumed once (by one of any
number of concurrent consumers), only for its purpose, and retired with its siblings."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from provider.crypto.tokens import new_token, token_hash
from provider.storage.db import default_connection
from provider.storage.models import OneTimeToken
from provider.storage.one_time_tokens import OneTimeTokens
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher, make_session

PURPOSE = "reset_password"


async def _saved(user_id: object, purpose: str = PURPOSE, ttl: int = 600) -> str:
    digest = token_hash(new_token())
    await OneTimeTokens(default_connection()).save(
        digest, str(user_id), purpose, data={"email": "ada@example.com"}, now=utcnow(), ttl=ttl
    )
    return digest


async def test_a_token_is_found_while_usable_and_consumed_once(backend: str) -> None:
    session = await make_session()
    digest = await _saved(session.user_id)
    store = OneTimeTokens(default_connection())
    found = await store.find_usable(digest, PURPOSE, utcnow())
    assert found is not None
    assert found.data == {"email": "ada@example.com"}
    assert found.expires_at - found.created_at == timedelta(seconds=600)
    assert await store.find_usable(digest, "verify_email", utcnow()) is None
    assert await store.consume(digest, "verify_email", utcnow()) is None

    consumed = await store.consume(digest, PURPOSE, utcnow())
    assert consumed is not None
    assert consumed.used_at is not None
    assert await store.consume(digest, PURPOSE, utcnow()) is None
    assert await store.find_usable(digest, PURPOSE, utcnow()) is None


async def test_an_expired_or_unknown_token_is_neither_found_nor_consumed(backend: str) -> None:
    session = await make_session()
    digest = await _saved(session.user_id, ttl=60)
    store = OneTimeTokens(default_connection())
    later = utcnow() + timedelta(seconds=61)
    assert await store.find_usable(digest, PURPOSE, later) is None
    assert await store.consume(digest, PURPOSE, later) is None
    assert await store.consume(token_hash("never-issued"), PURPOSE, utcnow()) is None
    assert (await OneTimeToken.get(token_hash=digest)).used_at is None


async def test_twenty_concurrent_consumers_of_one_token_have_one_winner(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    digest = await _saved(session.user_id)

    async def consume() -> bool:
        async with unit_of_work(CALLER, publisher) as work:
            return await OneTimeTokens(work.conn).consume(digest, PURPOSE, utcnow()) is not None

    results = await asyncio.gather(*(consume() for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]


async def test_retire_uses_up_the_outstanding_tokens_of_one_purpose(backend: str) -> None:
    session = await make_session()
    other = await make_session(email="other@example.com")
    older, newer = await _saved(session.user_id), await _saved(session.user_id)
    verify = await _saved(session.user_id, purpose="verify_email")
    theirs = await _saved(other.user_id)
    await OneTimeTokens(default_connection()).retire(str(session.user_id), PURPOSE, utcnow())
    used = {row.token_hash: row.used_at is not None for row in await OneTimeToken.all()}
    assert used == {older: True, newer: True, verify: False, theirs: False}
