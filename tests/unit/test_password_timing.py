"""Every refused password costs one Argon2 verification, whatever made it fail.

Time-independent evidence: the hasher's `verify` calls are counted, never timed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher

from provider.crypto.passwords import Passwords


@pytest.fixture
def passwords() -> Iterator[Passwords]:
    hasher = Passwords(time_cost=1, memory_cost=8, parallelism=1, threads=1)
    yield hasher
    hasher.close()


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes `PasswordHasher.verify` was asked to check."""
    calls: list[str] = []
    original = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
        calls.append(hash if isinstance(hash, str) else hash.decode())
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


@pytest.mark.parametrize(
    "stored",
    [
        None,  # no such account
        "!reset-required",  # an admin forced a password reset
        "$2b$12$abcdefghijklmnopqrstuuKvK0f7dF1sJq4mO6fJbQ6n3pQyW9a2",  # bcrypt, not Argon2
        "",
    ],
)
async def test_an_unusable_hash_is_replaced_by_the_dummy_argon2_hash(
    passwords: Passwords, argon2_calls: list[str], stored: str | None
) -> None:
    assert await passwords.verify(stored, "not-a-password-of-anyone") is False
    assert len(argon2_calls) == 1
    assert argon2_calls[0].startswith("$argon2id$")
    assert argon2_calls[0] != stored


async def test_a_real_hash_is_verified_itself(
    passwords: Passwords, argon2_calls: list[str]
) -> None:
    stored = await passwords.hash("correct horse battery")
    assert await passwords.verify(stored, "correct horse battery") is True
    assert await passwords.verify(stored, "wrong horse battery") is False
    assert argon2_calls == [stored, stored]


async def test_waste_spends_one_verification(passwords: Passwords, argon2_calls: list[str]) -> None:
    await passwords.waste("anything at all")
    assert len(argon2_calls) == 1
