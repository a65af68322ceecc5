"""The checks of an upstream's ID token (OIDC Core §3.1.3.7), with joserfc.

Signature through the upstream's JWKS with an asymmetric algorithm only (never `none`, never an
HMAC keyed with our client secret), then the issuer, the audience (and `azp` when there are
several), the expiry, the issue time and the nonce this sign-in sent. A Microsoft `common`
discovery names its issuer with a `{tenantid}` placeholder; the token's own `tid` fills it in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from provider.federation.errors import InvalidUpstreamToken

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "Ed25519"]
LEEWAY = 60
TENANT_PLACEHOLDER = "{tenantid}"

# The upstream's JWKS; `refresh=True` asks for a newer copy (a kid it does not know yet).
KeysLoader = Callable[[bool], Awaitable[dict[str, Any]]]


async def verify_id_token(
    token: str,
    load_keys: KeysLoader,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: float,
) -> dict[str, Any]:
    """The claims of a valid ID token; InvalidUpstreamToken for anything else."""
    claims = await _verified_claims(token, load_keys)
    check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, now=now)
    return claims


async def _verified_claims(token: str, load_keys: KeysLoader) -> dict[str, Any]:
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise InvalidUpstreamToken("The ID token is malformed.") from exc
    if header.get("alg") not in ALGORITHMS:
        raise InvalidUpstreamToken("The ID token is not signed with an accepted algorithm.")
    keys = KeySet.import_key_set(await load_keys(False))  # type: ignore[arg-type]
    kid = header.get("kid")
    if kid is not None and not any(key.kid == kid for key in keys.keys):
        keys = KeySet.import_key_set(await load_keys(True))  # type: ignore[arg-type]
    try:
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise InvalidUpstreamToken("The ID token's signature does not verify.") from exc
    return dict(decoded.claims)


def check_claims(
    claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: float
) -> None:
    expected_issuer = issuer
    if TENANT_PLACEHOLDER in issuer:
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not tenant or "/" in tenant:
            raise InvalidUpstreamToken("The ID token names no tenant.")
        expected_issuer = issuer.replace(TENANT_PLACEHOLDER, tenant)
    if claims.get("iss") != expected_issuer:
        raise InvalidUpstreamToken("The ID token comes from another issuer.")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise InvalidUpstreamToken("The ID token is meant for another client.")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise InvalidUpstreamToken("The ID token is meant for another client.")
    if "azp" in claims and claims["azp"] != client_id:
        raise InvalidUpstreamToken("The ID token is meant for another client.")
    expiry, issued = _time(claims.get("exp")), _time(claims.get("iat"))
    if expiry is None or expiry + LEEWAY <= now:
        raise InvalidUpstreamToken("The ID token has expired.")
    if issued is None or issued - LEEWAY > now:
        raise InvalidUpstreamToken("The ID token is issued in the future.")
    if claims.get("nonce") != nonce:
        raise InvalidUpstreamToken("The ID token does not answer this sign-in (nonce).")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise InvalidUpstreamToken("The ID token names no subject.")


def _time(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
