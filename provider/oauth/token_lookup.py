"""Finding what a presented token is, for introspection and revocation."""

from __future__ import annotations

from provider.crypto.tokens import token_hash
from provider.storage.models import RefreshToken


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


async def find_refresh_token(token: str) -> RefreshToken | None:
    if looks_like_jwt(token) or len(token) > 512:
        return None
    return await RefreshToken.get_or_none(token_hash=token_hash(token)).select_related("session")
