"""Secrets the server must read back (TOTP seeds): AES-256-GCM under a key derived from the secret.

The key is HKDF-SHA256(Settings.secret, info=purpose) (RFC 5869), so every purpose gets its own
key and rotating PROVIDER_SECRET_KEY makes old ciphertexts unreadable rather than silently wrong.
`context` (e.g. the user id) is authenticated as associated data: a sealed value copied to another
row does not open there. Sealed form: `v1.<base64url(12-byte nonce || ciphertext || tag)>`.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
NONCE_BYTES = 12  # NIST SP 800-38D §8.2: 96-bit random nonces


class SealError(Exception):
    """The sealed value is malformed, was made with another key, or belongs to another context."""


@lru_cache(maxsize=16)
def _key(secret: bytes, purpose: str) -> AESGCM:
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"provider sealing {VERSION} {purpose}".encode(),
    ).derive(secret)
    return AESGCM(material)


def seal(secret: bytes, plaintext: str, *, purpose: str, context: str = "") -> str:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = _key(secret, purpose).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}.{base64.urlsafe_b64encode(nonce + ciphertext).decode().rstrip('=')}"


def unseal(secret: bytes, sealed: str, *, purpose: str, context: str = "") -> str:
    version, _, body = sealed.partition(".")
    if version != VERSION or not body:
        raise SealError("unknown sealed format")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, binascii.Error) as exc:
        raise SealError("not base64url") from exc
    if len(raw) <= NONCE_BYTES + 16:
        raise SealError("too short")
    try:
        plaintext = _key(secret, purpose).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()
        )
    except InvalidTag as exc:
        raise SealError("authentication failed") from exc
    return plaintext.decode()
