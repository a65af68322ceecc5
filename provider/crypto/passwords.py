"""Argon2id hashing, run in a thread so ~100 ms of CPU never stalls the event loop.

argon2-cffi releases the GIL while hashing, so threads give real parallelism. The hashing threads
run at a lower scheduling priority than the event loop's thread, so on a busy core a login waits
for the CPU rather than every other request waiting behind a hash.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHING_NICENESS = 10
ARGON2_PREFIX = "$argon2"


def _yield_to_event_loop() -> None:
    """Lower this thread's priority (Linux applies nice per thread; libargon2's lane threads
    inherit it). Where that is not possible the pool simply runs at normal priority."""
    with suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


class Passwords:
    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, threads: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="argon2", initializer=_yield_to_event_loop
        )
        # Verified against when the account does not exist, so both paths cost the same. Made
        # in the pool rather than here, where it held up the start of serving by a hash's time;
        # a verify that needs it before it is ready waits for it.
        self._dummy_hash = self._pool.submit(self._hasher.hash, "not-a-password-of-anyone")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._hasher.hash, password
        )

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check a password; with no usable hash, spend the same time and answer False.

        "No usable hash" covers a missing account, an account under a forced reset (its
        placeholder fails to parse in microseconds) and anything that is not Argon2: each is
        verified against the dummy hash so its timing matches a real wrong password.
        """
        usable = stored_hash is not None and stored_hash.startswith(ARGON2_PREFIX)
        if stored_hash is not None and usable:
            checked = stored_hash
        else:
            checked = await asyncio.wrap_future(self._dummy_hash)
        matches = await asyncio.get_running_loop().run_in_executor(
            self._pool, self._verify, checked, password
        )
        return matches and usable

    async def waste(self, password: str) -> None:
        """Spend one verification's time for a refusal decided without the password."""
        await self.verify(None, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
