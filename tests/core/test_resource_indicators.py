"""Resource indicators (RFC 8707) in the grants, without HTTP: tokens audience-restricted to the
named resource servers, scopes narrowed to theirs, refresh tokens that serve any resource of
their grant, invalid_target for anything else, and ES256 tokens verified with the key set."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from provider.config import Settings
from provider.context import Services
from provider.crypto.keys import Keystore, write_key
from provider.oauth.authorization_request import AuthorizationRequest
from provider.oauth.grants.authorization_code import authorization_code_grant
from provider.oauth.grants.client_credentials import client_credentials_grant
from provider.oauth.grants.refresh_token import refresh_token_grant
from provider.sessions.access_tokens import verify_access_token
from provider.storage.models import AuditEvent, Client, RefreshToken, ResourceServer
from tests.contract.conftest import CALLER, make_session
from tests.core.conftest import SETTINGS
from tests.core.refusals import refusal
from tests.core.rows import REDIRECT_URI, make_client, pkce_pair, store_code

ISSUER = SETTINGS.issuer
ORDERS = "https://orders.example.com/api"
BILLING = "https://billing.example.com"
SCOPE = "openid profile offline_access orders.read orders.write billing.read api.read"


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Keystore:
    """An RSA and an EC key: the JWKS publishes both."""
    keys_dir: Path = tmp_path_factory.mktemp("resource-keys")
    write_key(keys_dir, "RS256", active_from=time.time() - 10)
    write_key(keys_dir, "ES256", active_from=time.time() - 10)
    return Keystore(keys_dir, Settings().access_token_ttl)


async def _resources() -> None:
    await ResourceServer.create(
        identifier=ORDERS,
        name="Orders",
        scopes=["orders.read", "orders.write"],
        access_token_ttl=120,
    )
    await ResourceServer.create(identifier=BILLING, name="Billing", scopes=["billing.read"])


async def _client(client_id: str = "rp") -> Client:
    # The client's own scopes do not list the APIs' scopes: the resources define them.
    return await make_client(client_id, scopes=["openid", "profile", "offline_access", "api.read"])


async def _redeem(
    services: Services,
    client: Client,
    resources: tuple[str, ...] = (ORDERS, BILLING),
    asked: tuple[str, ...] = (),
) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    session = await make_session()
    code = await store_code(
        services, session, client, code_challenge=challenge, scope=SCOPE, resources=resources
    )
    params = {"code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    return await authorization_code_grant(services, CALLER, client, params, asked)


def _claims(services: Services, body: dict[str, Any], audience: str | None) -> dict[str, Any]:
    return verify_access_token(services.keystore, str(body["access_token"]), ISSUER, audience)


async def test_one_resource_gets_its_audience_scopes_and_lifetime(services: Services) -> None:
    await _resources()
    client = await _client()

    body = await _redeem(services, client, resources=(ORDERS,))

    claims = _claims(services, body, ORDERS)
    assert claims["aud"] == ORDERS
    # The APIs' scopes of another resource and the client's own API scope are left out; the
    # scopes about the user stay for /userinfo.
    assert claims["scope"] == "openid profile orders.read orders.write"
    assert body["scope"] == claims["scope"]
    assert body["expires_in"] == 120
    assert claims["exp"] - claims["iat"] == 120
    assert "id_token" in body
    family = await RefreshToken.get()
    assert family.resources == [ORDERS]
    issued = await AuditEvent.get(event="token.issued")
    assert issued.details["resources"] == [ORDERS]


async def test_several_resources_share_one_token(services: Services) -> None:
    await _resources()
    client = await _client()

    body = await _redeem(services, client)

    claims = _claims(services, body, BILLING)
    assert claims["aud"] == [ORDERS, BILLING]
    assert claims["scope"] == "openid profile orders.read orders.write billing.read"
    # The shortest lifetime of the resources wins.
    assert body["expires_in"] == 120


async def test_the_token_request_picks_among_the_grants_resources(services: Services) -> None:
    await _resources()
    client = await _client()

    body = await _redeem(services, client, asked=(BILLING,))

    claims = _claims(services, body, BILLING)
    assert claims["aud"] == BILLING
    assert claims["scope"] == "openid profile billing.read"
    assert body["expires_in"] == services.settings.access_token_ttl
    # The refresh token still serves every resource of the grant.
    assert (await RefreshToken.get()).resources == [ORDERS, BILLING]


async def test_a_resource_outside_the_grant_is_invalid_target_and_keeps_the_code(
    services: Services,
) -> None:
    await _resources()
    client = await _client()
    verifier, challenge = pkce_pair()
    code = await store_code(
        services,
        await make_session(),
        client,
        code_challenge=challenge,
        scope=SCOPE,
        resources=(ORDERS,),
    )
    params = {"code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}

    refused = authorization_code_grant(services, CALLER, client, params, (BILLING,))

    assert await refusal(refused) == "invalid_target"
    body = await authorization_code_grant(services, CALLER, client, params, (ORDERS,))
    assert _claims(services, body, ORDERS)["aud"] == ORDERS


async def test_refresh_downscopes_to_each_resource_of_the_grant(services: Services) -> None:
    await _resources()
    client = await _client()
    first = await _redeem(services, client)

    orders = await refresh_token_grant(
        services, CALLER, client, {"refresh_token": str(first["refresh_token"])}, (ORDERS,)
    )
    assert _claims(services, orders, ORDERS)["scope"] == "openid profile orders.read orders.write"

    billing = await refresh_token_grant(
        services,
        CALLER,
        client,
        {"refresh_token": str(orders["refresh_token"]), "scope": "openid billing.read"},
        (BILLING,),
    )
    claims = _claims(services, billing, BILLING)
    assert (claims["aud"], claims["scope"]) == (BILLING, "openid billing.read")

    both = await refresh_token_grant(
        services, CALLER, client, {"refresh_token": str(billing["refresh_token"])}
    )
    assert _claims(services, both, ORDERS)["aud"] == [ORDERS, BILLING]


async def test_a_refresh_for_another_resource_is_refused_and_leaves_the_token_usable(
    services: Services,
) -> None:
    await _resources()
    await ResourceServer.create(identifier="https://hr.example.com", name="HR", scopes=["hr"])
    client = await _client()
    first = await _redeem(services, client, resources=(ORDERS,))
    params = {"refresh_token": str(first["refresh_token"])}

    for resource in ("https://hr.example.com", BILLING, "https://unknown.example", "not a uri"):
        refused = refresh_token_grant(services, CALLER, client, params, (resource,))
        assert await refusal(refused) == "invalid_target"

    body = await refresh_token_grant(services, CALLER, client, params, (ORDERS,))
    assert _claims(services, body, ORDERS)["aud"] == ORDERS
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0


async def test_a_deleted_or_closed_resource_stops_serving_refreshes(services: Services) -> None:
    await _resources()
    client = await _client()
    first = await _redeem(services, client, resources=(ORDERS,))
    orders = await ResourceServer.get(identifier=ORDERS)
    orders.allowed_clients = ["someone-else"]
    await orders.save()

    refused = refresh_token_grant(
        services, CALLER, client, {"refresh_token": str(first["refresh_token"])}
    )

    assert await refusal(refused) == "invalid_target"


@pytest.mark.parametrize(
    "resource",
    [
        "https://unknown.example.com",
        "https://orders.example.com/api#frag",
        "/relative/path",
        "orders",
        "https://orders.example.com/api/",
    ],
)
async def test_unknown_or_malformed_resources_are_invalid_target(
    services: Services, resource: str
) -> None:
    await _resources()
    client = await _client()

    refused = client_credentials_grant(services, CALLER, client, {}, (resource,))

    assert await refusal(refused) == "invalid_target"


async def test_only_the_allowed_clients_get_tokens_for_a_resource(services: Services) -> None:
    await ResourceServer.create(
        identifier=ORDERS, name="Orders", scopes=["orders.read"], allowed_clients=["trusted"]
    )
    stranger, trusted = await _client("stranger"), await _client("trusted")

    refused = client_credentials_grant(services, CALLER, stranger, {}, (ORDERS,))
    assert await refusal(refused) == "invalid_target"

    body = await client_credentials_grant(
        services, CALLER, trusted, {"scope": "orders.read"}, (ORDERS,)
    )
    claims = _claims(services, body, ORDERS)
    assert (claims["sub"], claims["scope"]) == ("trusted", "orders.read")


async def test_es256_resources_get_es256_tokens_the_key_set_verifies(services: Services) -> None:
    await ResourceServer.create(
        identifier=ORDERS, name="Orders", scopes=["orders.read"], signing_alg="ES256"
    )
    await ResourceServer.create(identifier=BILLING, name="Billing", scopes=["billing.read"])
    client = await _client()

    body = await client_credentials_grant(
        services, CALLER, client, {"scope": "orders.read"}, (ORDERS,)
    )

    token = str(body["access_token"])
    # Verified with the published JWKS document, as a resource server does.
    published = KeySet.import_key_set(json.loads(services.keystore.jwks_body))
    assert {key["kty"] for key in json.loads(services.keystore.jwks_body)["keys"]} == {"RSA", "EC"}
    header = jwt.decode(token, published, algorithms=["ES256"]).header
    assert header["alg"] == "ES256"
    assert header["kid"] == services.keystore.signing_key("ES256").kid
    assert _claims(services, body, ORDERS)["aud"] == ORDERS
    # One token cannot be signed two ways.
    mixed = client_credentials_grant(services, CALLER, client, {}, (ORDERS, BILLING))
    assert await refusal(mixed) == "invalid_target"


async def test_a_resource_never_lengthens_a_token(services: Services) -> None:
    # Registered when the provider's lifetime was longer: the provider's own lifetime wins.
    await ResourceServer.create(
        identifier=ORDERS, name="Orders", scopes=["orders.read"], access_token_ttl=3600
    )
    client = await _client()

    body = await client_credentials_grant(services, CALLER, client, {}, (ORDERS,))

    assert body["expires_in"] == services.settings.access_token_ttl


async def test_without_resource_nothing_changes(services: Services) -> None:
    await _resources()
    client = await _client()

    body = await _redeem(services, client, resources=())

    claims = _claims(services, body, client.id)
    assert claims["aud"] == client.id
    assert claims["scope"] == SCOPE
    assert (await RefreshToken.get()).resources is None


def test_a_flow_names_its_resources_only_when_it_has_some() -> None:
    plain = AuthorizationRequest(client_id="rp", redirect_uri=REDIRECT_URI)
    assert "resources" not in plain.to_dict()
    assert AuthorizationRequest.from_dict(plain.to_dict()) == plain
    named = AuthorizationRequest(client_id="rp", redirect_uri=REDIRECT_URI, resources=[ORDERS])
    assert AuthorizationRequest.from_dict(named.to_dict()).resources == [ORDERS]
