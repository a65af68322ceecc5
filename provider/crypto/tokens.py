"""Random secrets and their stored form."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(32)


def new_client_id() -> str:
    """128 bits, URL-safe, never starting with "-".

    A leading dash makes a client id read as an option on every command line that takes one
    (the CLI, the example relying parties, curl), so such draws are simply drawn again.
    """
    while True:
        candidate = secrets.token_urlsafe(16)
        if not candidate.startswith("-"):
            return candidate


def token_hash(token: str) -> str:
    """What we store for a high-entropy secret: a fast hash is right at 256 bits of entropy."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(secret: bytes, value: str, length: int = 32) -> str:
    """An HMAC-SHA256 (hex, `length` chars): for values that must not be reversible or forged."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:length]


def s256_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
