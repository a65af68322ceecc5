"""grant_type=client_credentials without HTTP (RFC 6749 §4.4): only confidential clients, only
their own non-user scopes, and a token about the client itself."""

from __future__ import annotations

import pytest

from provider.context import Services
from provider.oauth.grants.client_credentials import client_credentials_grant
from provider.sessions.access_tokens import verify_access_token
from provider.storage.models import AuditEvent, RefreshToken
from tests.contract.conftest import CALLER
from tests.core.refusals import refusal
from tests.core.rows import make_client


async def test_the_granted_scopes_are_the_requested_ones_of_the_client(services: Services) -> None:
    client = await make_client(audience="https://api.example.com")

    body = await client_credentials_grant(
        services, CALLER, client, {"scope": "api.write api.read api.write"}
    )

    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["scope"] == "api.write api.read"
    assert body["expires_in"] == services.settings.access_token_ttl
    claims = verify_access_token(
        services.keystore, str(body["access_token"]), "https://id.example.com", client.audience
    )
    assert claims["sub"] == client.id
    assert claims["client_id"] == client.id
    assert claims["scope"] == "api.write api.read"
    assert "sid" not in claims
    assert "auth_time" not in claims
    assert await RefreshToken.all().count() == 0


async def test_no_scope_asked_grants_none(services: Services) -> None:
    client = await make_client()

    body = await client_credentials_grant(services, CALLER, client, {})

    assert body["scope"] == ""
    claims = verify_access_token(
        services.keystore, str(body["access_token"]), "https://id.example.com", client.id
    )
    assert "scope" not in claims


async def test_a_public_client_is_refused(services: Services) -> None:
    client = await make_client(public=True, secret_hash=None)

    refused = client_credentials_grant(services, CALLER, client, {"scope": "api.read"})

    assert await refusal(refused) == "unauthorized_client"


@pytest.mark.parametrize(
    "scope",
    ["api.delete", "api.read api.delete", "openid", "offline_access", "api.read profile"],
    ids=["foreign", "one-foreign", "openid", "offline_access", "user-scope"],
)
async def test_a_scope_outside_the_clients_own_is_refused(services: Services, scope: str) -> None:
    # The client holds openid, profile and offline_access too: user scopes need a user.
    client = await make_client()

    refused = client_credentials_grant(services, CALLER, client, {"scope": scope})

    assert await refusal(refused) == "invalid_scope"
    assert await AuditEvent.all().count() == 0
