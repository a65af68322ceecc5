"""The signing keys as the admin console shows and rotates them.

A rotation adds the next key of an algorithm, published now and signing after
PROVIDER_KEY_ACTIVATION_DELAY (so relying parties fetch it before it is used), exactly as
`provider keys rotate`; this worker reloads its keys at once, the others at their next poll.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from provider.config import Settings
from provider.context import Caller, Services
from provider.crypto.keys import Algorithm, read_keys, retired_at, rotate
from provider.storage.models import User
from provider.storage.unit_of_work import unit_of_work

KeyState = Literal["pending", "signing", "retired"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256", "Ed25519")


@dataclass(frozen=True, slots=True)
class KeyView:
    kid: str
    alg: str
    state: KeyState
    active_from: datetime


def signing_keys(settings: Settings) -> list[KeyView]:
    """Every key of the folder, oldest first, with its state now."""
    now = time.time()
    records = read_keys(settings.keys_dir) if settings.keys_dir.exists() else []
    views = []
    for record in records:
        state: KeyState = "signing"
        if record.active_from > now:
            state = "pending"
        elif retired_at(record, records, now):
            state = "retired"
        views.append(
            KeyView(
                kid=record.kid,
                alg=record.alg,
                state=state,
                active_from=datetime.fromtimestamp(record.active_from, UTC),
            )
        )
    return views


async def rotate_signing_key(
    services: Services, caller: Caller, admin: User, alg: Algorithm
) -> KeyView:
    """Add the next key of `alg`; returns it (pending until the activation delay has passed)."""
    settings = services.settings
    record = await asyncio.to_thread(
        rotate, settings.keys_dir, alg, settings.key_activation_delay, settings.access_token_ttl
    )
    services.keystore.reload()
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            "admin.key_rotated",
            details={"admin_id": str(admin.id), "kid": record.kid, "alg": record.alg},
        )
    state: KeyState = "pending" if record.active_from > time.time() else "signing"
    return KeyView(
        kid=record.kid,
        alg=record.alg,
        state=state,
        active_from=datetime.fromtimestamp(record.active_from, UTC),
    )
