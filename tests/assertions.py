"""private_key_jwt helpers (RFC 7523): sign client assertions, register clients that use them."""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.oidc import RegisteredClient, register_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def sign_assertion(
    key: RSAKey | ECKey, client_id: str, audience: str, alg: str = "RS256", **claims: Any
) -> str:
    """A client assertion for `client_id`; a claim given as None is left out."""
    now = int(time.time())
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode({"alg": alg, "kid": key.thumbprint()}, payload, key)


def with_assertion(client_id: str, assertion: str, **data: str) -> dict[str, str]:
    return {
        **data,
        "client_id": client_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def public_jwk(key: RSAKey | ECKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": key.thumbprint(), "use": "sig"}


async def jwt_client(key: RSAKey | ECKey | None = None, **overrides: Any) -> RegisteredClient:
    """A client_credentials service authenticating with private_key_jwt (JWKS by value, unless
    `jwks_uri` is given)."""
    spec: dict[str, Any] = {
        "name": "Service",
        "redirect_uris": [],
        "grant_types": ["client_credentials"],
        "scopes": ["openid"],
        "auth_method": "private_key_jwt",
    }
    if key is not None:
        spec["jwks"] = {"keys": [public_jwk(key)]}
    return await register_client(**{**spec, **overrides})
