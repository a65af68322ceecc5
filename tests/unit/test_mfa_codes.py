"""TOTP steps and drift, backup codes, and sealing of the stored secret."""

from __future__ import annotations

import pyotp
import pytest

from provider.accounts.mfa import (
    BACKUP_CODE_ALPHABET,
    _new_backup_code,
    _normalize_code,
    matching_totp_step,
)
from provider.crypto.sealing import SealError, seal, unseal

SECRET = pyotp.random_base32()
NOW = 1_800_000_000.0
STEP = int(NOW) // 30


def _code(step: int) -> str:
    return pyotp.TOTP(SECRET).generate_otp(step)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_one_step_of_drift_either_way_is_accepted(offset: int) -> None:
    assert matching_totp_step(SECRET, _code(STEP + offset), None, NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_beyond_the_window_are_refused(offset: int) -> None:
    code = _code(STEP + offset)
    if code in {_code(STEP - 1), _code(STEP), _code(STEP + 1)}:
        pytest.skip("collision with a code inside the window")
    assert matching_totp_step(SECRET, code, None, NOW) is None


def test_the_last_used_step_and_older_ones_are_refused() -> None:
    assert matching_totp_step(SECRET, _code(STEP), STEP, NOW) is None
    assert matching_totp_step(SECRET, _code(STEP - 1), STEP, NOW) is None
    assert matching_totp_step(SECRET, _code(STEP + 1), STEP, NOW) == STEP + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert matching_totp_step(SECRET, code, None, NOW) is None


def test_spaces_in_a_code_are_ignored() -> None:
    code = _code(STEP)
    assert matching_totp_step(SECRET, f"{code[:3]} {code[3:]}", None, NOW) == STEP


def test_backup_codes_are_long_random_and_readable() -> None:
    codes = {_new_backup_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        raw = _normalize_code(code)
        assert len(raw) == 10
        assert set(raw) <= set(BACKUP_CODE_ALPHABET)
        assert _normalize_code(code.upper().replace("-", " ")) == raw


def test_sealing_round_trip_and_tampering() -> None:
    key = b"k" * 40
    sealed = seal(key, SECRET, purpose="totp-secret", context="user-1")
    assert SECRET not in sealed
    assert sealed.startswith("v1.")
    assert seal(key, SECRET, purpose="totp-secret", context="user-1") != sealed  # random nonce
    assert unseal(key, sealed, purpose="totp-secret", context="user-1") == SECRET
    for wrong in (
        {"secret": b"x" * 40, "purpose": "totp-secret", "context": "user-1"},
        {"secret": key, "purpose": "other", "context": "user-1"},
        {"secret": key, "purpose": "totp-secret", "context": "user-2"},
    ):
        with pytest.raises(SealError):
            unseal(wrong["secret"], sealed, purpose=wrong["purpose"], context=wrong["context"])  # type: ignore[arg-type]
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for broken in (flipped, "v2." + sealed[3:], "v1.", "v1.!!!", "garbage"):
        with pytest.raises(SealError):
            unseal(key, broken, purpose="totp-secret", context="user-1")
