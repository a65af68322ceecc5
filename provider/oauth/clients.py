"""The registry of relying parties: create, authenticate by secret, rotate the secret."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from provider.cache.base import Cache
from provider.cache.local_copies import ReadVersion, announce_change, version_key
from provider.context import CLIENT_COPIES, Services
from provider.crypto.tokens import keyed_hash, new_client_id, new_token
from provider.net.outbound import OutboundRefused, check_url
from provider.oauth.first_party import is_built_in
from provider.oauth.scopes import DEFAULT_CLIENT_SCOPES, is_scope_token
from provider.storage.clients import Clients, storable_client_id
from provider.storage.db import default_connection
from provider.storage.models import Client
from provider.storage.unit_of_work import utcnow

# How a client came to be (clients.registration): by an administrator, by RFC 7591 dynamic
# registration, or as the URL of its client ID metadata document. Only the first is vouched for.
ADMIN_REGISTERED = "admin"
DYNAMIC = "dynamic"
METADATA_DOCUMENT = "metadata_document"
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
SECRETLESS_METHODS = ("private_key_jwt", "none")
SIGNING_ALGS = ("RS256", "ES256", "Ed25519")


class ClientSpecError(ValueError):
    """A client registration that cannot work; the message says which field and why.

    `text` is a message id with named placeholders, filled in with `values`: the JSON API and
    the command line say it in English (`str()`), the console's pages translate `text` into
    the reader's language first and fill it in then."""

    def __init__(self, text: str, **values: str) -> None:
        super().__init__(text % values if values else text)
        self.text = text
        self.values = values


@dataclass(frozen=True, slots=True)
class ClientSpec:
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    grant_types: list[str]
    scopes: list[str]
    public: bool = False
    first_party: bool = False
    introspect_any: bool = False
    auth_method: str | None = None
    id_token_alg: str = "RS256"
    audience: str = ""
    jwks: dict[str, object] | None = None
    jwks_uri: str | None = None
    logo_uri: str | None = None


def _check_redirect_uri(uri: str) -> None:
    """Exact, absolute URIs without fragments (RFC 6749 §3.1.2); http only for loopback."""
    parts = urlsplit(uri)
    if not parts.scheme or (not parts.netloc and parts.scheme in ("http", "https")):
        raise ClientSpecError("redirect URI %(uri)s must be absolute", uri=repr(uri))
    if parts.fragment:
        raise ClientSpecError("redirect URI %(uri)s must not contain a fragment", uri=repr(uri))
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ClientSpecError(
            "redirect URI %(uri)s must use https (http only for loopback)", uri=repr(uri)
        )
    if parts.scheme in ("javascript", "data", "file", "vbscript"):
        raise ClientSpecError("redirect URI %(uri)s uses a forbidden scheme", uri=repr(uri))


def _check_logo_uri(uri: str) -> None:
    """An https image the pages load from the browser (RFC 7591 §2): never another scheme."""
    parts = urlsplit(uri)
    if parts.scheme != "https" or not parts.hostname or parts.username or len(uri) > 2048:
        raise ClientSpecError("logo_uri must be an https URL without credentials")


def is_reserved_audience(audience: str, issuer: str) -> bool:
    """The issuer and everything under it (the account and admin APIs at `<issuer>/v1`) belong
    to the provider: a client whose tokens named them would reach APIs no client may call."""
    candidate = audience.strip().rstrip("/").lower()
    own = issuer.rstrip("/").lower()
    return candidate == own or candidate.startswith(own + "/")


def validate_spec(spec: ClientSpec, issuer: str, *, allow_private: bool = False) -> str:
    """Check a registration; returns the token endpoint auth method to store.

    `allow_private` (a development setting) lets jwks_uri name a private or loopback address.
    """
    if not spec.name.strip():
        raise ClientSpecError("name must not be empty")
    if spec.audience and is_reserved_audience(spec.audience, issuer):
        raise ClientSpecError("audience must not be the issuer or an address under it")
    for uri in (*spec.redirect_uris, *spec.post_logout_redirect_uris):
        _check_redirect_uri(uri)
    unknown = [g for g in spec.grant_types if g not in GRANT_TYPES]
    if unknown or not spec.grant_types:
        raise ClientSpecError(
            "grant types must be among %(choices)s", choices=", ".join(GRANT_TYPES)
        )
    if "authorization_code" in spec.grant_types and not spec.redirect_uris:
        raise ClientSpecError("authorization_code needs at least one redirect URI")
    malformed = [s for s in spec.scopes if not is_scope_token(s)]
    if malformed:
        raise ClientSpecError("malformed scopes: %(scopes)s", scopes=", ".join(malformed))
    method = spec.auth_method or ("none" if spec.public else "client_secret_basic")
    if method not in AUTH_METHODS:
        raise ClientSpecError(
            "auth method must be one of %(choices)s", choices=", ".join(AUTH_METHODS)
        )
    if spec.public != (method == "none"):
        raise ClientSpecError("public clients use auth method none, confidential ones do not")
    if spec.public and spec.introspect_any:
        raise ClientSpecError("a public client cannot introspect tokens")
    if spec.public and "client_credentials" in spec.grant_types:
        raise ClientSpecError("a public client cannot use client_credentials")
    if method == "private_key_jwt" and not (spec.jwks or spec.jwks_uri):
        raise ClientSpecError("private_key_jwt needs a JWKS or a jwks_uri")
    if spec.jwks_uri is not None:
        try:
            check_url(spec.jwks_uri, allow_private)
        except OutboundRefused as exc:
            raise ClientSpecError("jwks_uri: %(reason)s", reason=str(exc)) from exc
    if spec.logo_uri is not None:
        _check_logo_uri(spec.logo_uri)
    if spec.id_token_alg not in SIGNING_ALGS:
        raise ClientSpecError(
            "ID token alg must be one of %(choices)s", choices=", ".join(SIGNING_ALGS)
        )
    return method


async def create_client(
    spec: ClientSpec,
    secret_key: bytes,
    issuer: str,
    *,
    allow_private: bool = False,
    client_id: str | None = None,
    registration: str = ADMIN_REGISTERED,
    registration_token_hash: str | None = None,
    client_metadata: dict[str, Any] | None = None,
) -> tuple[Client, str | None]:
    """Register a client; returns it with its secret in clear (shown once), None if it has none.

    Public clients and private_key_jwt clients authenticate without a secret: a secret they never
    use would only be one more credential to leak. Written on the caller's transaction, if any.
    """
    method = validate_spec(spec, issuer, allow_private=allow_private)
    secret = None if method in SECRETLESS_METHODS else new_token()
    client = await Clients(default_connection()).add(
        id=client_id or new_client_id(),
        name=spec.name.strip(),
        secret_hash=keyed_hash_full(secret_key, secret) if secret else None,
        public=spec.public,
        redirect_uris=spec.redirect_uris,
        post_logout_redirect_uris=spec.post_logout_redirect_uris,
        grant_types=spec.grant_types,
        scopes=spec.scopes or list(DEFAULT_CLIENT_SCOPES),
        token_endpoint_auth_method=method,
        jwks=spec.jwks,
        jwks_uri=spec.jwks_uri,
        logo_uri=spec.logo_uri,
        id_token_signed_response_alg=spec.id_token_alg,
        audience=spec.audience,
        first_party=spec.first_party,
        introspect_any=spec.introspect_any,
        registration=registration,
        registration_token_hash=registration_token_hash,
        client_metadata=client_metadata,
    )
    return client, secret


async def find_client(client_id: str | None, *, include_disabled: bool = False) -> Client | None:
    """The one lookup of a client by the id a request or a page names (the rules are those of
    `provider.storage.clients.Clients.find`): a disabled client is found only when asked for.

    The built-in first-party app is never found: it signs in through /v1/auth only, so the OAuth
    endpoints answer for it as for any unknown id, and the admin API does not show it."""
    if client_id is not None and is_built_in(client_id):
        return None
    return await Clients(default_connection()).find(client_id, include_disabled=include_disabled)


def is_self_registered(client: Client) -> bool:
    """Registered by no one the organisation vouches for: dynamically or by metadata document."""
    return client.registration != ADMIN_REGISTERED


async def find_active_client(
    services: Services, client_id: str, *, read: ReadVersion | None = None
) -> Client | None:
    """`find_client` for the endpoints clients call on every request (token, introspection,
    revocation, userinfo): with PROVIDER_CLIENT_CACHE, answered from this worker's copy while the
    client's version key in the cache says it is current (a unit of work's `client_changed`
    moves it on after the commit). `read`:
    that version, read by the caller with other keys (`services.clients.version_key`)."""
    if is_built_in(client_id) or not storable_client_id(client_id):
        return None
    found = await services.clients.get(
        services.cache, client_id, lambda: find_client(client_id), read=read
    )
    return cast("Client | None", found)


async def announce_client_change(cache: Cache, client_id: str) -> None:
    """Move the client's version key on outside a unit of work (the command line's rotation)."""
    await announce_change(cache, version_key(CLIENT_COPIES, client_id))


def keyed_hash_full(secret_key: bytes, value: str) -> str:
    return keyed_hash(secret_key, value, length=64)


def secret_matches(client: Client, presented: str, secret_key: bytes) -> bool:
    """The current secret, or the previous one during its grace period."""
    digest = keyed_hash_full(secret_key, presented)
    if client.secret_hash and hmac.compare_digest(client.secret_hash, digest):
        return True
    return bool(
        client.previous_secret_hash
        and client.previous_secret_expires_at
        and client.previous_secret_expires_at > utcnow()
        and hmac.compare_digest(client.previous_secret_hash, digest)
    )


async def rotate_secret(client: Client, secret_key: bytes, grace_seconds: int) -> str:
    """A new secret; the old one keeps working for `grace_seconds`. Written on the caller's
    transaction, if any."""
    if client.token_endpoint_auth_method in SECRETLESS_METHODS:
        raise ClientSpecError(
            "a client authenticating with %(method)s has no secret",
            method=client.token_endpoint_auth_method,
        )
    secret = new_token()
    client.previous_secret_hash = client.secret_hash if grace_seconds > 0 else None
    client.previous_secret_expires_at = (
        utcnow() + timedelta(seconds=grace_seconds) if grace_seconds > 0 else None
    )
    client.secret_hash = keyed_hash_full(secret_key, secret)
    await Clients(default_connection()).save(client)
    return secret
