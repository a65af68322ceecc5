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


async def nothing_issued() -> bool:
    """No refresh token exists and no `token.issued` row was written."""
    return (
        await RefreshToken.all().count() == 0
        and await AuditEvent.filter(event="token.issued").count() == 0
    )
