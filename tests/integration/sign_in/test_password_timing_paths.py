"""Every refused sign-in costs one Argon2 verification, whatever refused it: an unknown account,
a wrong password, an account under a forced password reset (its placeholder hash used to fail in
microseconds), a locked account. Counted in process, never timed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from provider.accounts.administration import UNUSABLE_PASSWORD
from provider.accounts.authentication import authenticate_password
from provider.cache.events import EventPublisher
from provider.cache.memory import MemoryCache
from provider.config import Settings
from provider.context import Caller, Services
from provider.crypto.passwords import Passwords
from provider.domain_errors import AccountLocked, DomainError, InvalidCredentials
from provider.http.errors import http_status
from provider.storage.models import User
from provider.storage.unit_of_work import utcnow
from tests.support import PASSWORD

CALLER = Caller(ip="192.0.2.1", user_agent="test", request_id="r1")


class CountingPasswords(Passwords):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, threads=1)
        self.verified: list[str] = []

    def _verify(self, stored_hash: str, password: str) -> bool:
        self.verified.append(stored_hash)
        return super()._verify(stored_hash, password)


@pytest.fixture
async def services(clean: None) -> AsyncIterator[Services]:
    cache = MemoryCache()
    passwords = CountingPasswords()
    yield Services(
        settings=Settings(),
        cache=cache,
        events=EventPublisher(cache),
        passwords=passwords,
        keystore=None,  # type: ignore[arg-type]  # sign-in signs nothing
    )
    passwords.close()


async def _user(services: Services, **fields: object) -> User:
    values = {"password_hash": await services.passwords.hash(PASSWORD), **fields}
    return await User.create(id=uuid.uuid4(), email=f"{uuid.uuid4().hex[:8]}@example.com", **values)


@pytest.mark.parametrize("case", ["unknown", "wrong_password", "forced_reset", "locked"])
async def test_each_refusal_costs_one_argon2_verification(services: Services, case: str) -> None:
    passwords = services.passwords
    assert isinstance(passwords, CountingPasswords)
    identifier, password = "ghost@example.com", PASSWORD
    if case == "wrong_password":
        identifier, password = (await _user(services)).email, "wrong horse battery"
    elif case == "forced_reset":
        identifier = (await _user(services, password_hash=UNUSABLE_PASSWORD)).email
    elif case == "locked":
        locked = await _user(services, locked_until=utcnow() + timedelta(minutes=5))
        identifier = locked.email
    passwords.verified.clear()

    with pytest.raises(DomainError) as refused:
        await authenticate_password(services, CALLER, identifier, password)

    assert isinstance(refused.value, AccountLocked if case == "locked" else InvalidCredentials)
    assert http_status(refused.value) == (423 if case == "locked" else 401)
    assert len(passwords.verified) == 1
    assert passwords.verified[0].startswith("$argon2id$")
