"""The bearer token of a request (RFC 6750 §2.1), read the same way by every endpoint."""

from __future__ import annotations

from sanic import Request


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
