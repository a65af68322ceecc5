"""The list of breached and common passwords that no account may use.

`breached_passwords.bin` beside this module holds one 8-byte fingerprint per entry (the first
8 bytes of the SHA-1 of the entry after `normalize`), sorted and without duplicates. It is built
by `scripts/build_breached_passwords.py` from the sources named in `breached_passwords.NOTICE`.

The file is memory-mapped on first use and binary-searched in place: a lookup reads at most
~20 fingerprints whatever the password, the process keeps no copy of the list on its heap, and
the pages are shared through the page cache by every worker on the host. With 2**64
fingerprints and a few hundred thousand entries, a password wrongly taken for a listed one is a
chance of about one in 10**13.
"""

from __future__ import annotations

import hashlib
import mmap
from functools import cache
from pathlib import Path

FINGERPRINT_SIZE = 8
LIST_FILE = Path(__file__).with_name("breached_passwords.bin")


def normalize(password: str) -> str:
    """The lookup's case rule: surrounding whitespace removed, letters lower-cased."""
    return password.strip().lower()


def fingerprint(password: str) -> bytes:
    digest = hashlib.sha1(normalize(password).encode(), usedforsecurity=False).digest()
    return digest[:FINGERPRINT_SIZE]


@cache
def _fingerprints() -> mmap.mmap:
    with LIST_FILE.open("rb") as file:
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def entry_count() -> int:
    return len(_fingerprints()) // FINGERPRINT_SIZE


def is_breached(password: str) -> bool:
    """Whether the password, under `normalize`, is on the list."""
    table = _fingerprints()
    wanted = fingerprint(password)
    low, high = 0, len(table) // FINGERPRINT_SIZE
    while low < high:
        middle = (low + high) // 2
        start = middle * FINGERPRINT_SIZE
        found = table[start : start + FINGERPRINT_SIZE]
        if found == wanted:
            return True
        if found < wanted:
            low = middle + 1
        else:
            high = middle
    return False
