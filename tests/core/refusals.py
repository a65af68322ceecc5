"""The RFC 6749 error code a refused grant carries, whatever the class that carries it."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

from provider.domain_errors import ProtocolRefusal
from provider.storage.models import AuditEvent, RefreshToken


async def refusal(call: Awaitable[object]) -> str:
    """Await `call`, which must be refused with a protocol refusal; its RFC 6749 code.

    The code (e.g. "invalid_grant") is the contract the token endpoint answers with.
    """
    with pytest.raises(ProtocolRefusal) as info:
        await call
    return info.value.code


NOTHING_ISSUED = {"refresh_tokens": 0, "token.issued": 0}


async def issued() -> dict[str, int]:
    """How many refresh tokens exist and how many `token.issued` rows were written."""
    return {
        "refresh_tokens": await RefreshToken.all().count(),
        "token.issued": await AuditEvent.filter(event="token.issued").count(),
    }
