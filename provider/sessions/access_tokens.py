"""RFC 9068 JWT access tokens: minted with the keystore's active key, verified offline."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from provider.crypto.keys import ALGORITHMS, Keystore

ACCESS_TOKEN_TYPE = "at+jwt"


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """Who the token speaks for and what it allows."""

    subject: str
    client_id: str
    scope: str
    session_id: str | None
    auth_time: int | None
    # The client's own audience, or the resource servers it asked for (RFC 8707).
    audience: str | list[str]
    # Claims about the user for the client (`roles`, `groups`); never one of the above.
    user_claims: dict[str, Any] = field(default_factory=dict)


class InvalidAccessToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class MintedToken:
    value: str
    jti: str
    expires_in: int


def mint_access_token(
    keystore: Keystore, issuer: str, ttl: int, grant: AccessGrant, alg: str = "RS256"
) -> MintedToken:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": grant.subject,
        "aud": grant.audience,
        "client_id": grant.client_id,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    if grant.scope:
        claims["scope"] = grant.scope
    if grant.session_id:
        claims["sid"] = grant.session_id
    if grant.auth_time is not None:
        claims["auth_time"] = grant.auth_time
    claims.update({name: value for name, value in grant.user_claims.items() if name not in claims})
    record = keystore.signing_key(alg)
    header = {"alg": record.alg, "kid": record.kid, "typ": ACCESS_TOKEN_TYPE}
    return MintedToken(jwt.encode(header, claims, record.key), claims["jti"], ttl)


def verify_access_token(
    keystore: Keystore, token: str, issuer: str, audience: str | None
) -> dict[str, Any]:
    """Signature, `typ`, issuer, audience and lifetime (RFC 9068 §4); raises on any failure."""
    try:
        decoded = jwt.decode(token, keystore.key_set, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidAccessToken("signature or format") from exc
    # RFC 9068 §4: the resource server MUST check that `typ` is at+jwt.
    if str(decoded.header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
        raise InvalidAccessToken("not an access token")
    expected: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "exp": {"essential": True},
        "sub": {"essential": True},
        "jti": {"essential": True},
    }
    if audience is not None:
        expected["aud"] = {"essential": True, "value": audience}
    registry = JWTClaimsRegistry(leeway=5, **expected)
    try:
        registry.validate(decoded.claims)
    except JoseError as exc:
        raise InvalidAccessToken(str(exc)) from exc
    return decoded.claims
