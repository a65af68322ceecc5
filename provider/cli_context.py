"""What a CLI command that runs an audited use case needs, opened and closed in one place.

The database is opened, events go out through the configured cache, and the caller is the CLI;
whatever the use case does, queued events are drained and both connections closed. Imports are
made when a command runs so that `provider serve` does not pay for them at start-up.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provider.cache.events import EventPublisher
    from provider.config import Settings
    from provider.context import Caller
    from provider.domain_errors import DomainError


@asynccontextmanager
async def cli_use_case(settings: Settings) -> AsyncIterator[tuple[EventPublisher, Caller]]:
    """The event publisher and caller a use case takes, with the database open meanwhile."""
    from provider.cache.events import EventPublisher
    from provider.cache.fallback import build_cache
    from provider.context import Caller
    from provider.storage.db import close_database, open_database

    await open_database(settings.database_url)
    cache = build_cache(settings.redis_url)
    events = EventPublisher(cache)
    try:
        yield events, Caller(ip="cli", user_agent="provider-cli", request_id=uuid.uuid4().hex)
    finally:
        await events.drain()
        await cache.close()
        await close_database()


def refusal_text(exc: DomainError) -> str:
    """A refusal as one line: its message, then its details as JSON when it has any."""
    detail = f" ({json.dumps(exc.details)})" if exc.details else ""
    return f"{exc.message}{detail}"
