"""The RFC 6749 error code a refused grant carries, whatever the class that carries it."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

from provider.storage.models import AuditEvent, RefreshToken


async def refusal(call: Awaitable[object]) -> str:
    """Await `call`, which must be refused; its `.error` (e.g. "invalid_grant").

    The code is the contract: the exception class is an implementation detail of the adapter.
    """
    with pytest.raises(Exception) as info:  # noqa: PT011 - the code is asserted, not the class
        await call
    error = getattr(info.value, "error", None)
    assert isinstance(error, str), repr(info.value)
    return error


NOTHING_ISSUED = {"refresh_tokens": 0, "token.issued": 0}


async def issued() -> dict[str, int]:
    """How many refresh tokens exist and how many `token.issued` rows were written."""
    return {
        "refresh_tokens": await RefreshToken.all().count(),
        "token.issued": await AuditEvent.filter(event="token.issued").count(),
    }
