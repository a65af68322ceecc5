"""CodeStore contract: a code is claimed once, by exactly one of any number of concurrent
claimants, never after it expired; a claimed code is seen as redeemed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from provider.crypto.tokens import new_token, token_hash
from provider.storage.codes import CodeStore, NewCode
from provider.storage.db import default_connection
from provider.storage.models import AuthorizationCode, RefreshToken, Session
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher, make_session


def _bound_to(session: Session, **overrides: object) -> NewCode:
    values: dict[str, object] = {
        "client_id": "rp",
        "user_id": session.user_id,
        "session_id": session.id,
        "redirect_uri": "https://rp.example/cb",
        "scope": "openid profile",
        "nonce": "n-0S6_WzA2Mj",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "auth_time": session.auth_time,
        "amr": ["pwd", "otp", "mfa"],
        "acr": "urn:provider:acr:mfa",
    }
    values.update(overrides)
    return NewCode(**values)  # type: ignore[arg-type]


async def _saved(session: Session, ttl: int = 60) -> str:
    digest = token_hash(new_token())
    await CodeStore(default_connection()).save(digest, _bound_to(session), now=utcnow(), ttl=ttl)
    return digest


async def test_save_keeps_every_binding_of_the_code(backend: str) -> None:
    session = await make_session()
    digest = token_hash(new_token())
    now = utcnow()
    await CodeStore(default_connection()).save(digest, _bound_to(session), now=now, ttl=60)
    row = await AuthorizationCode.get(code_hash=digest)
    assert (row.client_id, row.redirect_uri, row.scope) == (
        "rp",
        "https://rp.example/cb",
        "openid profile",
    )
    assert str(row.user_id) == str(session.user_id)
    assert str(row.session_id) == str(session.id)
    assert row.nonce == "n-0S6_WzA2Mj"
    assert row.code_challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert (row.amr, row.acr) == (["pwd", "otp", "mfa"], "urn:provider:acr:mfa")
    assert row.auth_time == session.auth_time
    assert row.expires_at - row.created_at == timedelta(seconds=60)
    assert row.used_at is None
    assert row.issued_family_id is None


async def test_claim_returns_the_code_with_its_session_and_user_once(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    digest = await _saved(session)
    async with unit_of_work(CALLER, publisher) as work:
        code = await CodeStore(work.conn).claim(digest, utcnow())
    assert code is not None
    assert code.used_at is not None
    assert code.session.id == session.id
    assert code.user.id == session.user_id
    assert (await AuthorizationCode.get(code_hash=digest)).used_at is not None

    async with unit_of_work(CALLER, publisher) as work:
        store = CodeStore(work.conn)
        assert await store.claim(digest, utcnow()) is None
        redeemed = await store.find_redeemed(digest)
    assert redeemed is not None
    assert redeemed.code_hash == digest


async def test_an_unknown_or_expired_code_is_not_claimed_and_not_redeemed(backend: str) -> None:
    session = await make_session()
    expired = await _saved(session, ttl=60)
    store = CodeStore(default_connection())
    later = utcnow() + timedelta(seconds=61)
    assert await store.claim(expired, later) is None
    assert await store.claim(token_hash("never-issued"), utcnow()) is None
    assert (await AuthorizationCode.get(code_hash=expired)).used_at is None
    assert await store.find_redeemed(expired) is None
    assert await store.find_redeemed(token_hash("never-issued")) is None


async def test_a_claim_rolled_back_with_its_transaction_leaves_the_code_usable(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    digest = await _saved(session)
    try:
        async with unit_of_work(CALLER, publisher) as work:
            assert await CodeStore(work.conn).claim(digest, utcnow()) is not None
            raise RuntimeError("the redemption failed half-way")
    except RuntimeError:
        pass
    assert (await AuthorizationCode.get(code_hash=digest)).used_at is None
    assert await CodeStore(default_connection()).claim(digest, utcnow()) is not None


async def test_twenty_concurrent_claims_of_one_code_have_one_winner(
    backend: str, publisher: RecordingPublisher
) -> None:
    session = await make_session()
    digest = await _saved(session)

    async def claim() -> bool:
        async with unit_of_work(CALLER, publisher) as work:
            code = await CodeStore(work.conn).claim(digest, utcnow())
            if code is not None:
                await work.audit("token.issued", user_id=code.user_id, client_id=code.client_id)
            return code is not None

    results = await asyncio.gather(*(claim() for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert publisher.names() == ["token.issued"]


async def test_record_issued_and_void_client(backend: str) -> None:
    session = await make_session()
    digest = await _saved(session)
    other = await _saved(session)
    store = CodeStore(default_connection())
    code = await store.claim(digest, utcnow())
    assert code is not None
    family = uuid.uuid4()
    await store.record_issued(code, family_id=family, access_jti="jti-1")
    row = await AuthorizationCode.get(code_hash=digest)
    assert (row.issued_family_id, row.issued_access_jti) == (family, "jti-1")

    await store.void_client("rp", utcnow())
    assert await store.claim(other, utcnow()) is None
    assert await RefreshToken.all().count() == 0
