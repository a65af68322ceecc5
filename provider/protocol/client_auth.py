"""Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3).

Methods: client_secret_basic, client_secret_post, private_key_jwt (RFC 7523 §2.2, OIDC Core §9)
and none (public clients, which identify themselves with client_id only).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from contextlib import suppress
from typing import Any, TypeGuard
from urllib.parse import unquote

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sanic import Request

from provider.cache.base import CacheUnavailable
from provider.cache.local_copies import ReadVersion
from provider.context import Services
from provider.http.errors import OAuthError
from provider.net.outbound import OutboundError
from provider.oauth.clients import find_active_client, secret_matches
from provider.storage.models import Client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ["RS256", "PS256", "ES256", "Ed25519", "EdDSA"]
# RFC 7523 §3: the server may limit how far in the future an assertion's `exp` is.
MAX_ASSERTION_LIFETIME = 300
ASSERTION_LEEWAY = 30
MAX_JTI_LENGTH = 256
log = logging.getLogger("provider.client_auth")


def invalid_client(
    basic_used: bool, description: str = "Client authentication failed."
) -> OAuthError:
    """401 invalid_client; with Basic, the challenge names the scheme (RFC 6749 §5.2)."""
    headers = {"WWW-Authenticate": 'Basic realm="provider"'} if basic_used else {}
    return OAuthError("invalid_client", description, status=401, headers=headers)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_client(True, "Malformed Basic credentials.") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise invalid_client(True, "Malformed Basic credentials.")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


async def authenticate_client(
    request: Request, params: dict[str, str], services: Services, endpoint_url: str
) -> Client:
    """The client the request authenticates as, or invalid_client (401)."""
    client, _ = await authenticate_client_reading(request, params, services, endpoint_url, [])
    return client


async def authenticate_client_reading(
    request: Request,
    params: dict[str, str],
    services: Services,
    endpoint_url: str,
    keys: list[str],
) -> tuple[Client, list[str | None] | None]:
    """`authenticate_client`, which also reads `keys` from the cache in the round trip that
    reads the client's version (with PROVIDER_CLIENT_CACHE); their values, or None when they were
    not read (the setting off, or the cache unreachable: the caller reads them itself)."""
    basic = _basic_credentials(request)
    used = [
        name
        for name, present in (
            ("client_secret_basic", basic is not None),
            ("client_secret_post", "client_secret" in params),
            ("private_key_jwt", "client_assertion" in params),
        )
        if present
    ]
    if len(used) > 1:
        # RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
        raise invalid_client(basic is not None, "Use exactly one client authentication method.")
    method = used[0] if used else "none"
    claims: dict[str, Any] = {}
    if method == "private_key_jwt":
        claims = _assertion_claims(params)
        client_id = claims["sub"]
    elif basic is not None:
        client_id = basic[0]
        if params.get("client_id", client_id) != client_id:
            raise invalid_client(True, "client_id does not match the credentials.")
    else:
        client_id = params.get("client_id", "")
    read, values = None, None
    if keys and services.clients.enabled:
        with suppress(CacheUnavailable):
            both = await services.cache.strict().get_many(
                [services.clients.version_key(client_id), *keys]
            )
            read, values = ReadVersion(both[0]), both[1:]
    client = await find_active_client(services, client_id, read=read)
    if client is None or client.token_endpoint_auth_method != method:
        raise invalid_client(basic is not None)
    settings = services.settings
    if method == "client_secret_basic" and basic is not None:
        ok = secret_matches(client, basic[1], settings.secret)
    elif method == "client_secret_post":
        ok = secret_matches(client, params["client_secret"], settings.secret)
    elif method == "private_key_jwt":
        audiences = [endpoint_url, settings.issuer, settings.issuer + "/token"]
        ok = await _verify_assertion(client, params, claims, services, audiences)
    else:
        ok = client.public
    if not ok:
        raise invalid_client(basic is not None)
    return client, values


def _segment_json(segment: str) -> object:
    """One base64url segment of a compact JWS, parsed as JSON (not verified)."""
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _assertion_claims(params: dict[str, str]) -> dict[str, Any]:
    """The assertion's claims, read before any key is fetched: the signature is checked later
    against the keys of the client they name, and only if they could be acceptable."""
    if params.get("client_assertion_type") != ASSERTION_TYPE:
        raise invalid_client(False, "Unsupported client_assertion_type.")
    try:
        claims = _segment_json(params["client_assertion"].split(".")[1])
    except (IndexError, ValueError, binascii.Error, RecursionError):
        # RecursionError: a payload of deeply nested JSON arrays or objects.
        raise invalid_client(False, "Malformed client_assertion.") from None
    if not isinstance(claims, dict):
        raise invalid_client(False, "Malformed client_assertion.")
    sub = claims.get("sub")
    if not isinstance(sub, str) or params.get("client_id", sub) != sub:
        raise invalid_client(False, "Malformed client_assertion.")
    return claims


def _is_time(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _claims_acceptable(claims: dict[str, Any], client_id: str, audiences: list[str]) -> bool:
    """RFC 7523 §3: iss = sub = client_id, aud names us, exp present and not passed, jti.

    RFC 7523 §3 lets the server refuse a JWT whose `exp` is unreasonably far in the future: an
    assertion may live MAX_ASSERTION_LIFETIME seconds at most, and none is issued in the future.
    """
    now = time.time()
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    exp, iat, nbf, jti = (claims.get(name) for name in ("exp", "iat", "nbf", "jti"))
    return (
        claims.get("iss") == client_id
        and claims.get("sub") == client_id
        and any(isinstance(value, str) and value in audiences for value in named)
        and _is_time(exp)
        and now - ASSERTION_LEEWAY < exp <= now + MAX_ASSERTION_LIFETIME + ASSERTION_LEEWAY
        and (iat is None or (_is_time(iat) and iat <= now + ASSERTION_LEEWAY))
        and (nbf is None or (_is_time(nbf) and nbf <= now + ASSERTION_LEEWAY))
        and isinstance(jti, str)
        and 0 < len(jti) <= MAX_JTI_LENGTH
    )


async def _verify_assertion(
    client: Client,
    params: dict[str, str],
    claims: dict[str, Any],
    services: Services,
    audiences: list[str],
) -> bool:
    """Claims first (nothing is fetched for an assertion that could never pass), then the
    signature by a registered key, then the jti: used once (RFC 7523 §3)."""
    if not _claims_acceptable(claims, client.id, audiences):
        return False
    keys = client.jwks or await _remote_keys(services, client, params["client_assertion"])
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        token = jwt.decode(params["client_assertion"], key_set, algorithms=ASSERTION_ALGS)
    except (JoseError, ValueError, TypeError, KeyError, RecursionError):
        return False
    if token.claims != claims:
        return False
    ttl = float(claims["exp"]) - time.time() + ASSERTION_LEEWAY
    # The replay cache decides security: never answered from one worker's memory. When Redis is
    # unreachable, CacheUnavailable reaches the error handler: 503 temporarily_unavailable.
    return await services.cache.strict().set_if_absent(
        f"assertion:{client.id}:{claims['jti']}", "1", ttl
    )


async def _remote_keys(services: Services, client: Client, assertion: str) -> dict[str, Any]:
    """The client's JWKS from its jwks_uri (cached); refetched when the assertion names a kid it
    does not hold, at most once per interval (a key rotation, or a made-up kid)."""
    documents = services.jwks_documents
    try:
        keys = await documents.get(client.jwks_uri or "")
        kid = _header_kid(assertion)
        if kid is not None and kid not in _kids(keys):
            keys = await documents.get(client.jwks_uri or "", refresh=True)
    except OutboundError as exc:
        log.warning("client jwks not fetched", extra={"client_id": client.id, "err": str(exc)})
        return {"keys": []}
    return keys


def _header_kid(assertion: str) -> str | None:
    try:
        header = _segment_json(assertion.split(".")[0])
    except (ValueError, binascii.Error, RecursionError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def _kids(keys: dict[str, Any]) -> set[str]:
    listed = keys.get("keys")
    if not isinstance(listed, list):
        return set()
    return {
        key["kid"] for key in listed if isinstance(key, dict) and isinstance(key.get("kid"), str)
    }
