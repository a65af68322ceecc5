"""What both example clients need from the provider: discovery, the JWKS, and JWS checks.

Nothing here trusts configuration baked into the client beyond the issuer URL: endpoints,
the JWKS location and the accepted signing algorithms all come from
`<issuer>/.well-known/openid-configuration`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import time
from collections.abc import Callable, Collection
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

DISCOVERY_PATH = "/.well-known/openid-configuration"
# Only asymmetric algorithms make sense against a public JWKS; "none" and HMAC never do.
ASYMMETRIC_PREFIXES = ("RS", "PS", "ES", "Ed")


class DiscoveryError(Exception):
    """The provider's metadata or keys could not be fetched or are unusable."""


class TokenError(Exception):
    """A JWT failed verification; the message says which check, for logs only."""


def ssl_verify(ca_file: str | None) -> ssl.SSLContext | bool:
    """httpx `verify=`: the system trust store, plus a private CA when one is given."""
    if not ca_file:
        return True
    context = ssl.create_default_context()  # loads the system store only without cafile=
    context.load_verify_locations(cafile=ca_file)
    return context


def make_http_client(ca_file: str | None = None, timeout: float = 10.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=ssl_verify(ca_file), timeout=timeout, follow_redirects=False)


async def fetch_metadata(http: httpx.AsyncClient, issuer: str) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §4; the `issuer` inside must equal the one asked for (§4.3)."""
    url = issuer.rstrip("/") + DISCOVERY_PATH
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        metadata = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DiscoveryError(f"cannot load {url}: {exc}") from exc
    if not isinstance(metadata, dict):
        raise DiscoveryError("discovery document is not a JSON object")
    if metadata.get("issuer") != issuer:
        raise DiscoveryError(
            f"issuer mismatch: asked for {issuer!r}, got {metadata.get('issuer')!r}"
        )
    if not isinstance(metadata.get("jwks_uri"), str):
        raise DiscoveryError("discovery document has no jwks_uri")
    return metadata


def allowed_algorithms(advertised: object) -> frozenset[str]:
    """The advertised signing algorithms this client accepts: asymmetric only, never "none"."""
    if not isinstance(advertised, list):
        return frozenset({"RS256"})
    return frozenset(
        alg
        for alg in advertised
        if isinstance(alg, str) and alg != "none" and alg.startswith(ASYMMETRIC_PREFIXES)
    )


class JWKSCache:
    """The provider's JWKS, fetched on first use and again when a token names an unknown `kid`.

    Refetches are spaced at least `min_refresh_interval` seconds apart so a stream of tokens
    with made-up key ids cannot turn into a stream of requests to the provider.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        jwks_uri: str,
        min_refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._jwks_uri = jwks_uri
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> Key:
        keys = self._keys
        if keys is None:
            keys = await self._refresh(force=True)
        key = _find_key(keys, kid)
        if key is None:
            keys = await self._refresh(force=False)
            key = _find_key(keys, kid)
        if key is None:
            raise TokenError(f"no published key for kid {kid!r}")
        return key

    async def _refresh(self, force: bool) -> KeySet:
        seen = self._fetched_at
        async with self._lock:
            if self._keys is not None and self._fetched_at != seen:
                return self._keys  # another task refreshed while this one waited
            now = self._clock()
            if (
                not force
                and self._keys is not None
                and self._fetched_at is not None
                and now - self._fetched_at < self._min_refresh_interval
            ):
                return self._keys
            try:
                response = await self._http.get(self._jwks_uri)
                response.raise_for_status()
                keys = KeySet.import_key_set(response.json())
            except (httpx.HTTPError, ValueError, JoseError) as exc:
                if self._keys is not None:
                    return self._keys  # keep serving with the keys already known
                raise DiscoveryError(f"cannot load JWKS {self._jwks_uri}: {exc}") from exc
            self._keys = keys
            self._fetched_at = now
            return keys


def _find_key(keys: KeySet, kid: str | None) -> Key | None:
    if kid is None:
        # Without a kid, only an unambiguous single signing key may be used.
        candidates = [key for key in keys if key.get("use", "sig") == "sig"]
        return candidates[0] if len(candidates) == 1 else None
    for key in keys:
        if key.kid == kid:
            return key
    return None


async def verify_jws(
    token: str, jwks: JWKSCache, algorithms: Collection[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the signature of a compact JWS with a published key; return (header, claims).

    The `alg` must be one this client accepts, and must agree with the key's own `alg` and `use`
    when the JWK states them. The claims are not validated here.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("not a compact JWS")
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise TokenError(f"malformed JWS: {exc}") from exc
    alg = header.get("alg")
    if not isinstance(alg, str) or alg == "none" or alg not in algorithms:
        raise TokenError(f"algorithm {alg!r} not accepted")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenError("kid is not a string")
    key = await jwks.key_for(kid)
    if key.get("use", "sig") != "sig":
        raise TokenError("key is not a signing key")
    if key.alg is not None and key.alg != alg:
        raise TokenError(f"key is for {key.alg}, token says {alg}")
    try:
        decoded = jwt.decode(token, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenError(f"signature or payload: {exc}") from exc
    return dict(decoded.header), dict(decoded.claims)


def half_hash(value: str, alg: str) -> str:
    """`at_hash` / `c_hash` (OIDC Core §3.1.3.6): left half of the hash that matches `alg`."""
    if alg in ("Ed25519", "EdDSA"):
        digest = hashlib.sha512(value.encode("ascii")).digest()
    elif alg[-3:] in ("256", "384", "512"):
        digest = hashlib.new(f"sha{alg[-3:]}", value.encode("ascii")).digest()
    else:
        raise TokenError(f"no hash defined for {alg}")
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")
