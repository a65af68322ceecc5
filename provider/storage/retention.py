"""Purging rows that ended long ago: expired refresh tokens, one-time tokens and sessions."""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.storage.models import OneTimeToken, RefreshToken, Session


async def purge_expired(conn: BaseDBAsyncClient, cutoff: datetime) -> dict[str, int]:
    """Delete the rows that expired before `cutoff`; how many of each kind went."""
    return {
        "refresh_tokens": await RefreshToken.filter(expires_at__lt=cutoff).using_db(conn).delete(),
        "one_time_tokens": await OneTimeToken.filter(expires_at__lt=cutoff).using_db(conn).delete(),
        "sessions": await Session.filter(expires_at__lt=cutoff).using_db(conn).delete(),
    }
