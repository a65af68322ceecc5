"""Finding what a presented token is, for introspection and revocation."""

from __future__ import annotations

from provider.crypto.tokens import token_hash
from provider.storage.db import default_connection
from provider.storage.models import RefreshToken
from provider.storage.refresh_lookup import RefreshLookup


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


async def find_refresh_token(token: str) -> RefreshToken | None:
    if looks_like_jwt(token) or len(token) > 512:
        return None
    return await RefreshLookup(default_connection()).by_hash(token_hash(token))
