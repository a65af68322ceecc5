"""The client information response of RFC 7591 §3.2.1 and RFC 7592 §3: what the registration
and configuration endpoints answer about a dynamically registered client."""

from __future__ import annotations

from typing import Any

from provider.oauth.dynamic_registration import registration_client_uri
from provider.storage.models import Client

# RFC 7591 §3.2.1, RFC 6749 §5.1: an answer holding credentials is not cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def client_information(
    client: Client,
    issuer: str,
    registration_access_token: str,
    client_secret: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        **(client.client_metadata or {}),
        "client_id": client.id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": ["code"] if "authorization_code" in client.grant_types else [],
        "scope": " ".join(client.scopes),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "registration_access_token": registration_access_token,
        "registration_client_uri": registration_client_uri(issuer, client.id),
    }
    if client.post_logout_redirect_uris:
        body["post_logout_redirect_uris"] = list(client.post_logout_redirect_uris)
    if client.jwks_uri:
        body["jwks_uri"] = client.jwks_uri
    if client.jwks:
        body["jwks"] = client.jwks
    if client_secret is not None:
        # Only at registration: the secret is kept as a hash. 0: it does not expire.
        body["client_secret"] = client_secret
        body["client_secret_expires_at"] = 0
    return body
