"""ID tokens (OIDC Core §2, §3.1.3.6): signed with the client's registered algorithm."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt

from provider.crypto.keys import Keystore
from provider.oauth.claims import user_claims
from provider.storage.models import Client, Session, User


def token_hash_claim(value: str, alg: str) -> str:
    """at_hash/c_hash: the left half of the hash of the ASCII value, base64url (§3.1.3.6)."""
    digest = hashlib.sha512 if alg in ("Ed25519", "EdDSA") else hashlib.sha256
    half = digest(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(half[: len(half) // 2]).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class Authentication:
    """When and how the user authenticated, as tokens state it (auth_time, amr, acr)."""

    time: datetime
    amr: list[str]
    acr: str

    @classmethod
    def of(cls, session: Session) -> Authentication:
        return cls(session.auth_time, list(session.amr), session.acr)


def mint_id_token(
    keystore: Keystore,
    issuer: str,
    ttl: int,
    *,
    client: Client,
    user: User,
    session: Session,
    authentication: Authentication,
    scopes: list[str],
    nonce: str | None,
    access_token: str | None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    record = keystore.signing_key(client.id_token_signed_response_alg)
    now = int(time.time())
    claims: dict[str, Any] = {
        **user_claims(user, scopes),
        **(extra_claims or {}),
        "iss": issuer,
        "aud": client.id,
        "azp": client.id,
        "iat": now,
        "exp": now + ttl,
        "auth_time": int(authentication.time.timestamp()),
        "sid": str(session.id),
        "amr": authentication.amr,
    }
    if authentication.acr:
        claims["acr"] = authentication.acr
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["at_hash"] = token_hash_claim(access_token, record.alg)
    return jwt.encode({"alg": record.alg, "kid": record.kid, "typ": "JWT"}, claims, record.key)


def read_id_token_hint(keystore: Keystore, token: str, issuer: str) -> dict[str, Any] | None:
    """Claims of an ID token we signed, expired or not (OIDC Core §3.1.2.1); None if not ours."""
    try:
        decoded = jwt.decode(token, keystore.key_set, algorithms=["RS256", "ES256", "Ed25519"])
    except Exception:  # any malformed or foreign token is simply not a usable hint
        return None
    # Only an ID token is a hint (OIDC Core §3.1.2.1): an access token is signed by the same keys,
    # so its `typ` (at+jwt, RFC 9068 §2.1) and its access-token claims give it away.
    if str(decoded.header.get("typ", "JWT")).upper() != "JWT":
        return None
    claims = decoded.claims
    if claims.get("iss") != issuer or not isinstance(claims.get("sub"), str):
        return None
    if "aud" not in claims or "client_id" in claims or "jti" in claims:
        return None
    return claims
