"""Periodic work of each worker: purge expired rows and erase accounts deleted longer than the
grace period (one worker at a time), and pick up new keys.

Keys are also re-read at once on SIGHUP (`reload_keys`), e.g. right after `keys rotate`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from provider.accounts.account_deletion import purge_deleted_accounts
from provider.cache.base import CacheUnavailable
from provider.context import Services
from provider.crypto.keys import KeyUnusable
from provider.storage import retention
from provider.storage.db import default_connection
from provider.storage.unit_of_work import utcnow

log = logging.getLogger("provider.maintenance")
# Ended rows are kept this long for the "your devices" history and investigations.
RETENTION = timedelta(days=7)


async def purge_expired() -> dict[str, int]:
    return await retention.purge_expired(default_connection(), utcnow() - RETENTION)


async def purge_loop(services: Services) -> None:
    interval = services.settings.purge_interval
    while True:
        await asyncio.sleep(interval)
        try:
            if await services.cache.set_if_absent("purge:lock", "1", interval):
                removed = await purge_expired()
                log.info("purged expired rows", extra=removed)
                erased = await purge_deleted_accounts(services.events)
                if erased:
                    log.info("erased deleted accounts", extra={"accounts": erased})
        except (CacheUnavailable, OSError) as exc:
            log.warning("purge skipped", extra={"err": str(exc)})
        except Exception:
            log.exception("purge failed")


async def key_reload_loop(services: Services) -> None:
    while True:
        await asyncio.sleep(services.settings.keys_reload_interval)
        try:
            if services.keystore.maybe_reload():
                log.info(
                    "signing keys reloaded",
                    extra={"kids": [r.kid for r in services.keystore.records]},
                )
        except (KeyUnusable, OSError) as exc:
            log.error(
                "signing keys not reloaded; keeping the previous set", extra={"err": str(exc)}
            )


def reload_keys(services: Services) -> None:
    """Read the keys folder now (the SIGHUP handler); a bad folder keeps the previous set."""
    try:
        services.keystore.reload()
    except (KeyUnusable, OSError) as exc:
        log.error("signing keys not reloaded; keeping the previous set", extra={"err": str(exc)})
        return
    log.info(
        "signing keys reloaded on SIGHUP",
        extra={"kids": [r.kid for r in services.keystore.records]},
    )
