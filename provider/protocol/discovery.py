"""Discovery (OIDC Discovery 1.0 §3, RFC 8414 §2): exactly what this provider supports."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, empty, raw

from provider.accounts.login import ACR_MFA, ACR_PASSWORD
from provider.config import Settings
from provider.http.blueprint import Blueprint
from provider.http.context import services_of
from provider.i18n.catalogues import available
from provider.oauth.clients import AUTH_METHODS
from provider.oauth.scopes import SCOPES
from provider.protocol.client_auth import ASSERTION_ALGS

bp = Blueprint("discovery")


def metadata(settings: Settings, signing_algs: list[str]) -> dict[str, Any]:
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "introspection_endpoint": f"{issuer}/introspect",
        "revocation_endpoint": f"{issuer}/revoke",
        "end_session_endpoint": f"{issuer}/logout",
        # RFC 7591 §3 / RFC 8414 §2: open, or with an initial access token (see the README).
        "registration_endpoint": f"{issuer}/oauth/clients",
        # draft-ietf-oauth-client-id-metadata-document: an https client_id names its document.
        "client_id_metadata_document_supported": settings.client_id_metadata_documents,
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        # What the ID token's acr can say; acr_values=urn:provider:acr:mfa asks for two factors.
        "acr_values_supported": [ACR_PASSWORD, ACR_MFA],
        "id_token_signing_alg_values_supported": signing_algs,
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": [m for m in AUTH_METHODS if m != "none"],
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
            "sid",
            "at_hash",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "picture",
            "zoneinfo",
            "locale",
            "updated_at",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            "address",
            "roles",
            "groups",
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "display_values_supported": ["page", "popup", "touch"],
        # OIDC Discovery §3: the languages the hosted pages are installed in.
        "ui_locales_supported": available(),
        "claims_locales_supported": ["en"],
    }


@bp.get("/.well-known/openid-configuration")
async def openid_configuration(request: Request) -> HTTPResponse:
    return _cached_document(request)


@bp.get("/.well-known/oauth-authorization-server")
async def oauth_authorization_server(request: Request) -> HTTPResponse:
    return _cached_document(request)


def _cached_document(request: Request) -> HTTPResponse:
    """The body is built once per key set and served with an ETag."""
    services = services_of(request)
    signing_algs = services.keystore.algorithms
    cache: dict[str, tuple[bytes, str]] = request.app.ctx.discovery_cache
    key = ",".join(signing_algs)
    if key not in cache:
        body = json.dumps(metadata(services.settings, signing_algs), separators=(",", ":")).encode()
        cache.clear()
        cache[key] = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    body, etag = cache[key]
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if request.headers.get("if-none-match") == etag:
        return empty(status=304, headers=headers)
    return raw(body, content_type="application/json", headers=headers)
