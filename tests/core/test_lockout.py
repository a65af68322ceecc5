"""Lockout arithmetic (accounts.lockout): N refusals within the window lock for the configured
duration, older refusals age out, a success starts the count again, and the refusal says when
to retry."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from provider.accounts.authentication import authenticate_password
from provider.accounts.lockout import Lockout
from provider.cache.memory import MemoryCache
from provider.context import Services
from provider.domain_errors import AccountLocked, InvalidCredentials
from provider.storage.models import AuditEvent, User
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER
from tests.support import PASSWORD

UNKNOWN = "id:0123456789abcdef"


class Clock:
    """The cache's clock, moved by hand: windows age without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _configured(services: Services, clock: Clock, **settings: int) -> Services:
    """The services with lockout settings of the test and a cache on `clock`."""
    return replace(
        services,
        settings=services.settings.model_copy(update=settings),
        cache=MemoryCache(clock),
    )


async def _user(services: Services, **fields: Any) -> User:
    return await User.create(
        id=uuid.uuid4(),
        email=f"{uuid.uuid4().hex[:12]}@example.com",
        password_hash=await services.passwords.hash(PASSWORD),
        **fields,
    )


async def _fail(services: Services, subject: str, user: User | None) -> bool:
    """One counted refusal; True if it locked."""
    async with unit_of_work(CALLER, services.events) as work:
        return await Lockout(services).record_failure(work, subject, user)


async def _retry_after(services: Services, subject: str, user: User | None) -> int:
    with pytest.raises(AccountLocked) as locked:
        await Lockout(services).ensure_not_locked(subject, user)
    assert locked.value.code == "account_locked"
    assert locked.value.details == {"retry_after": locked.value.retry_after}
    return locked.value.retry_after


@pytest.mark.parametrize(("threshold", "duration"), [(5, 900), (3, 60), (1, 30)])
async def test_the_nth_refusal_locks_the_account_for_the_configured_duration(
    services: Services, clock: Clock, threshold: int, duration: int
) -> None:
    services = _configured(services, clock, lockout_threshold=threshold, lockout_duration=duration)
    user = await _user(services)

    locked = [await _fail(services, str(user.id), user) for _ in range(threshold)]

    assert locked == [False] * (threshold - 1) + [True]
    row = await User.get(id=user.id)
    assert row.locked_until is not None
    remaining = (row.locked_until - utcnow()).total_seconds()
    assert duration - 5 < remaining <= duration
    audit = await AuditEvent.get(event="user.locked")
    assert str(audit.user_id) == str(user.id)
    assert audit.details == {"until": row.locked_until.isoformat(), "failures": threshold}
    assert duration - 1 <= await _retry_after(services, str(user.id), row) <= duration


async def test_an_unknown_identifier_locks_like_an_account(
    services: Services, clock: Clock
) -> None:
    services = _configured(services, clock, lockout_threshold=3, lockout_duration=120)

    locked = [await _fail(services, UNKNOWN, None) for _ in range(3)]

    assert locked == [False, False, True]
    assert 119 <= await _retry_after(services, UNKNOWN, None) <= 120
    await Lockout(services).ensure_not_locked("id:another", None)
    assert await AuditEvent.filter(event="user.locked").count() == 0


async def test_the_lock_of_an_unknown_identifier_ends_after_the_duration(
    services: Services, clock: Clock
) -> None:
    services = _configured(services, clock, lockout_threshold=1, lockout_duration=120)
    assert await _fail(services, UNKNOWN, None)

    clock.advance(121)

    await Lockout(services).ensure_not_locked(UNKNOWN, None)


async def test_an_account_lock_in_the_past_no_longer_refuses(services: Services) -> None:
    user = await _user(services, locked_until=utcnow() - timedelta(seconds=1))

    await Lockout(services).ensure_not_locked(str(user.id), user)


async def test_refusals_older_than_the_window_do_not_count(
    services: Services, clock: Clock
) -> None:
    services = _configured(services, clock, lockout_threshold=3, lockout_window=600)
    user = await _user(services)
    subject = str(user.id)
    assert [await _fail(services, subject, user) for _ in range(2)] == [False, False]

    clock.advance(600)

    assert [await _fail(services, subject, user) for _ in range(2)] == [False, False]
    assert (await User.get(id=user.id)).locked_until is None
    assert await _fail(services, subject, user)


async def test_a_reset_starts_the_count_again(services: Services, clock: Clock) -> None:
    services = _configured(services, clock, lockout_threshold=3)
    user = await _user(services)
    subject = str(user.id)
    assert [await _fail(services, subject, user) for _ in range(2)] == [False, False]

    await Lockout(services).reset(subject)

    assert [await _fail(services, subject, user) for _ in range(2)] == [False, False]
    assert await _fail(services, subject, user)


async def _sign_in(services: Services, user: User, password: str) -> str:
    """The outcome of one password sign-in: "ok", "refused" or "locked"."""
    try:
        await authenticate_password(services, CALLER, user.email, password)
    except InvalidCredentials:
        return "refused"
    except AccountLocked:
        return "locked"
    return "ok"


async def test_a_successful_sign_in_clears_the_refusals(services: Services, clock: Clock) -> None:
    services = _configured(services, clock, lockout_threshold=3)
    user = await _user(services)
    wrong = "wrong horse battery"

    outcomes = [
        await _sign_in(services, user, password)
        for password in (wrong, wrong, PASSWORD, wrong, wrong, wrong, PASSWORD)
    ]

    assert outcomes == ["refused", "refused", "ok", "refused", "refused", "refused", "locked"]
    assert await AuditEvent.filter(event="user.login_failed").count() == 5
    assert await AuditEvent.filter(event="user.locked").count() == 1


async def test_a_correct_password_does_not_clear_the_refusals_of_an_mfa_account(
    services: Services, clock: Clock
) -> None:
    # Only the second factor clears them: otherwise a known password resets the wrong codes.
    services = _configured(services, clock, lockout_threshold=3)
    user = await _user(services, totp_enabled_at=utcnow(), totp_secret="sealed")
    wrong = "wrong horse battery"

    outcomes = [
        await _sign_in(services, user, password) for password in (wrong, wrong, PASSWORD, wrong)
    ]

    assert outcomes == ["refused", "refused", "ok", "refused"]
    assert (await User.get(id=user.id)).locked_until is not None


async def test_claimed_attempts_beyond_the_threshold_are_refused_until_the_window_frees_one(
    services: Services, clock: Clock
) -> None:
    services = _configured(services, clock, lockout_threshold=3, lockout_window=900)
    lockout = Lockout(services)
    claimed = [await lockout.claim_attempt("subject") for _ in range(3)]
    clock.advance(100)

    with pytest.raises(AccountLocked) as locked:
        await lockout.claim_attempt("subject")

    assert claimed == [1, 2, 3]
    # The first attempt leaves the window 800 s from now.
    assert locked.value.retry_after == 801
    clock.advance(800)
    assert await lockout.claim_attempt("subject") == 1


async def test_only_the_last_claimed_attempt_locks_when_it_fails(
    services: Services, clock: Clock
) -> None:
    services = _configured(services, clock, lockout_threshold=3, lockout_duration=300)
    user = await _user(services)
    lockout = Lockout(services)

    locked = []
    for attempt in (1, 2, 3):
        async with unit_of_work(CALLER, services.events) as work:
            locked.append(await lockout.record_claimed_failure(work, str(user.id), user, attempt))

    assert locked == [False, False, True]
    audit = await AuditEvent.get(event="user.locked")
    assert audit.details["failures"] == 3
    assert 299 <= await _retry_after(services, str(user.id), await User.get(id=user.id)) <= 300
