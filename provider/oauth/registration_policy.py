"""What a client that registers itself may ask for: RFC 7591 §2 metadata read under the policy of
the settings, into the `ClientSpec` every registration is checked with.

The policy (PROVIDER_REGISTRATION_*): the grant types and scopes a self-registered client may
have, whether it must be public, which https hosts its redirect URIs may name, and whether native
apps' redirect URIs (loopback IP, private-use schemes; RFC 8252) are allowed. Whatever the policy,
such a client is never first-party, never introspects other clients' tokens, names no audience of
its own and has its redirect URIs checked here before the common rules of `validate_spec`.

Metadata this server does not understand is ignored (RFC 7591 §2: the server MUST ignore it);
metadata it understands but refuses is `invalid_redirect_uri` or `invalid_client_metadata`
(RFC 7591 §3.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from provider.config import Settings
from provider.domain_errors import (
    InvalidClientMetadata,
    InvalidRedirectUri,
    UnapprovedSoftwareStatement,
)
from provider.oauth.clients import (
    AUTH_METHODS,
    SIGNING_ALGS,
    ClientSpec,
    ClientSpecError,
    validate_spec,
)
from provider.oauth.redirect_uris import is_loopback_ip_redirect, is_private_use_scheme
from provider.oauth.scopes import is_scope_token

# Shown and echoed back, never used for a decision.
DISPLAY_URIS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
DISPLAY_TEXTS = ("software_id", "software_version")
MAX_URIS = 20
MAX_URI_LENGTH = 2000
MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Registration:
    """A registration request read under the policy: the client to create, what it says about
    itself, and the auth method `validate_spec` settled on."""

    spec: ClientSpec
    metadata: dict[str, Any]
    auth_method: str


def _strings(metadata: dict[str, Any], name: str, *, error: type[Exception]) -> list[str] | None:
    value = metadata.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise error(f"{name} must be an array of strings.")
    if len(value) > MAX_URIS or any(len(item) > MAX_URI_LENGTH for item in value):
        raise error(f"{name} has too many or too long entries.")
    return value


def _text(metadata: dict[str, Any], name: str, limit: int = MAX_URI_LENGTH) -> str | None:
    value = metadata.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidClientMetadata(f"{name} must be a non-empty string of at most {limit}.")
    if not value.isprintable():
        raise InvalidClientMetadata(f"{name} must not contain control characters.")
    return value


def _https_uri(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise InvalidClientMetadata(f"{name} must be an https URL.")
    return value


def _host_allowed(host: str, allowed: list[str]) -> bool:
    if not allowed:
        return True
    host = host.lower().rstrip(".")
    for entry in (item.lower() for item in allowed):
        if host == entry or (entry.startswith(".") and host.endswith(entry)):
            return True
    return False


def _check_redirect_uri(settings: Settings, uri: str, *, public: bool) -> None:
    """One redirect URI under the policy; InvalidRedirectUri says why not."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise InvalidRedirectUri(f"redirect URI {uri!r} is malformed.") from exc
    if parts.fragment or "#" in uri:
        # RFC 6749 §3.1.2: the redirection endpoint URI MUST NOT include a fragment.
        raise InvalidRedirectUri(f"redirect URI {uri!r} must not contain a fragment.")
    if parts.scheme == "https" and parts.hostname:
        if parts.username or parts.password:
            raise InvalidRedirectUri(f"redirect URI {uri!r} must not contain credentials.")
        if not _host_allowed(parts.hostname, settings.registration_redirect_hosts):
            raise InvalidRedirectUri(f"redirect URI {uri!r} names a host that is not allowed.")
        return
    native = is_loopback_ip_redirect(uri) or parts.hostname == "localhost"
    if parts.scheme == "http" and native and settings.registration_allow_native:
        # RFC 8252 §7.3 (and §8.3 for localhost, matched exactly: see redirect_uris).
        return
    if is_private_use_scheme(uri) and settings.registration_allow_native:
        # RFC 8252 §7.1 and §8.4: a private-use scheme identifies no one, so only a public
        # client (which must then use PKCE) may claim one.
        if not public:
            raise InvalidRedirectUri(
                f"redirect URI {uri!r}: private-use schemes are for public native clients."
            )
        return
    raise InvalidRedirectUri(
        f"redirect URI {uri!r} must be https, a loopback IP address (http://127.0.0.1 or "
        "http://[::1]) or a private-use scheme such as com.example.app:/callback."
    )


def _grant_types(settings: Settings, metadata: dict[str, Any]) -> list[str]:
    # RFC 7591 §2: grant_types defaults to authorization_code, response_types to code.
    grant_types = _strings(metadata, "grant_types", error=InvalidClientMetadata) or [
        "authorization_code"
    ]
    refused = [g for g in grant_types if g not in settings.registration_grant_types]
    if refused:
        raise InvalidClientMetadata(f"grant types not allowed: {' '.join(refused)}.")
    response_types = _strings(metadata, "response_types", error=InvalidClientMetadata)
    if response_types is not None and set(response_types) - {"code"}:
        raise InvalidClientMetadata('response_types may only be ["code"].')
    if response_types and "authorization_code" not in grant_types:
        # RFC 7591 §2.1: response type code goes with the authorization_code grant.
        raise InvalidClientMetadata("response type code needs the authorization_code grant.")
    return list(dict.fromkeys(grant_types))


def _scopes(settings: Settings, metadata: dict[str, Any]) -> list[str]:
    """The requested scopes the policy allows. Others are left out rather than refused (RFC 7591
    §3.2.1: the server MAY replace requested values; the response says what was registered):
    an API's scopes need no registration, they are requested with its `resource` (RFC 8707)."""
    scope = metadata.get("scope")
    if scope is None:
        return list(settings.registration_scopes)
    if not isinstance(scope, str):
        raise InvalidClientMetadata("scope must be a space-separated string.")
    scopes = list(dict.fromkeys(scope.split()))
    malformed = [s for s in scopes if not is_scope_token(s)]
    if malformed:
        raise InvalidClientMetadata(f"malformed scopes: {' '.join(malformed)}.")
    allowed = [s for s in scopes if s in settings.registration_scopes]
    return allowed or list(settings.registration_scopes)


def _auth_method(settings: Settings, metadata: dict[str, Any]) -> str:
    # RFC 7591 §2: the default token_endpoint_auth_method is client_secret_basic.
    method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}."
        )
    if settings.registration_public_only and method != "none":
        raise InvalidClientMetadata("only public clients (token_endpoint_auth_method none) here.")
    return str(method)


def _display(metadata: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for name in DISPLAY_URIS:
        value = _text(metadata, name)
        if value is not None:
            shown[name] = _https_uri(value, name)
    for name in DISPLAY_TEXTS:
        value = _text(metadata, name, limit=200)
        if value is not None:
            shown[name] = value
    contacts = _strings(metadata, "contacts", error=InvalidClientMetadata)
    if contacts is not None:
        shown["contacts"] = contacts
    return shown


def read_registration(
    settings: Settings, metadata: dict[str, Any], *, default_name: str = "Unnamed client"
) -> Registration:
    """The client a registration request asks for, or the RFC 7591 §3.2.2 refusal."""
    if "software_statement" in metadata:
        raise UnapprovedSoftwareStatement("Software statements are not accepted here.")
    method = _auth_method(settings, metadata)
    public = method == "none"
    grant_types = _grant_types(settings, metadata)
    redirect_uris = _strings(metadata, "redirect_uris", error=InvalidRedirectUri) or []
    logout_uris = _strings(metadata, "post_logout_redirect_uris", error=InvalidRedirectUri) or []
    if "authorization_code" in grant_types and not redirect_uris:
        raise InvalidRedirectUri("redirect_uris is required for the authorization_code grant.")
    for uri in (*redirect_uris, *logout_uris):
        _check_redirect_uri(settings, uri, public=public)
    jwks_uri = _text(metadata, "jwks_uri")
    jwks = metadata.get("jwks")
    if jwks is not None and not isinstance(jwks, dict):
        raise InvalidClientMetadata("jwks must be a JWK Set object.")
    if jwks is not None and jwks_uri is not None:
        # RFC 7591 §2: jwks and jwks_uri MUST NOT both be present.
        raise InvalidClientMetadata("jwks and jwks_uri must not both be present.")
    alg = metadata.get("id_token_signed_response_alg", "RS256")
    if alg not in SIGNING_ALGS:
        raise InvalidClientMetadata(f"id_token_signed_response_alg must be one of {SIGNING_ALGS}.")
    name = _text(metadata, "client_name", limit=MAX_NAME_LENGTH) or default_name
    spec = ClientSpec(
        name=name,
        redirect_uris=list(dict.fromkeys(redirect_uris)),
        post_logout_redirect_uris=list(dict.fromkeys(logout_uris)),
        grant_types=grant_types,
        scopes=_scopes(settings, metadata),
        public=public,
        auth_method=method,
        id_token_alg=str(alg),
        jwks=jwks,
        jwks_uri=jwks_uri,
    )
    try:
        auth_method = validate_spec(
            spec, settings.issuer, allow_private=settings.outbound_allow_private
        )
    except ClientSpecError as exc:
        raise InvalidClientMetadata(str(exc)) from exc
    return Registration(spec, _display(metadata), auth_method)
