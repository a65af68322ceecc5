"""The breached-password list: its size and shape, the lookup's case rule, and its rebuild."""

from __future__ import annotations

import gzip
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provider.accounts.breached_passwords import (
    FINGERPRINT_SIZE,
    LIST_FILE,
    entry_count,
    fingerprint,
    is_breached,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_list_holds_at_least_100000_entries() -> None:
    assert entry_count() >= 100_000


def test_the_file_is_sorted_fingerprints_without_duplicates() -> None:
    data = LIST_FILE.read_bytes()
    assert len(data) % FINGERPRINT_SIZE == 0
    entries = [data[i : i + FINGERPRINT_SIZE] for i in range(0, len(data), FINGERPRINT_SIZE)]
    assert all(a < b for a, b in itertools.pairwise(entries))


@pytest.mark.parametrize(
    "password",
    [
        "123456",
        "password",
        "basketball",  # from SecLists through the npm package
        "q1w2e3r4t5y6",
        "correcthorsebatterystaple",  # from the project's additions
    ],
)
def test_listed_passwords_are_found(password: str) -> None:
    assert is_breached(password)


@pytest.mark.parametrize(
    "password", ["BASKETBALL", "BasketBall", "  basketball\t", "\nManchester "]
)
def test_case_and_surrounding_whitespace_do_not_matter(password: str) -> None:
    assert is_breached(password)


@pytest.mark.parametrize(
    "password", ["basket ball", "basketball!", "correct horse battery", "x7#kq9!mzt", ""]
)
def test_anything_else_is_not_on_the_list(password: str) -> None:
    assert not is_breached(password)


def test_the_script_rebuilds_the_file_from_its_sources(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("Hunter2\n\n  zebra  \nhunter2\n")
    packed = tmp_path / "packed.txt.gz"
    packed.write_bytes(gzip.compress(b"apple\nZEBRA\n"))
    output = tmp_path / "list.bin"
    command = [sys.executable, "scripts/build_breached_passwords.py", "--output", str(output)]
    for source in (plain, packed):
        command += ["--source", str(source)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    expected = sorted({fingerprint(word) for word in ("hunter2", "zebra", "apple")})
    assert output.read_bytes() == b"".join(expected)
