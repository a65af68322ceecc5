"""RFC 8707 over HTTP: `resource` repeated at /authorize and /token, audience-restricted and
downscoped tokens, invalid_target answers, and what introspection says about the audience."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from provider.storage.models import ResourceServer
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    is_consent_page,
    is_login_page,
    pkce_pair,
    query_of,
    redeem_code,
    refresh,
    register_client,
)
from tests.support import PASSWORD, Server, register

ORDERS = "https://orders.example.com/api"
BILLING = "https://billing.example.com"


async def _setup(client: httpx.AsyncClient) -> RegisteredClient:
    await register(client)
    await ResourceServer.create(
        identifier=ORDERS, name="Orders", scopes=["orders.read"], access_token_ttl=90
    )
    await ResourceServer.create(identifier=BILLING, name="Billing", scopes=["billing.read"])
    return await register_client(scopes=["openid", "profile", "offline_access"])


async def _authorize(
    browser: Browser, rp: RegisteredClient, resources: list[str], **extra: str
) -> dict[str, str]:
    """The redirect's query after signing in and allowing, for these resources."""
    pairs = list(auth_params(rp, **extra).items()) + [("resource", r) for r in resources]
    response = await browser.follow(await browser.http.get("/authorize?" + urlencode(pairs)))
    if is_login_page(response):
        response = await browser.submit_login(response, "ada@example.com", PASSWORD)
    if is_consent_page(response):
        response = await browser.submit_consent(response)
    assert response.status_code == 302, response.text[:500]
    return query_of(response.headers["location"])


async def _claims(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set((await client.get("/jwks")).json())
    return dict(jwt.decode(token, keys).claims)


async def test_a_code_flow_for_two_resources_then_a_refresh_for_each(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await _setup(client)
    verifier, challenge = pkce_pair()
    async with httpx.AsyncClient(base_url=server.url) as http:
        result = await _authorize(
            Browser(http),
            rp,
            [ORDERS, BILLING],
            scope="openid profile offline_access orders.read billing.read",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    assert "code" in result, result

    # The token request names several resources too, each a separate parameter.
    token = await client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            "resource": [ORDERS, BILLING],
        },
        auth=rp.basic(),
    )
    assert token.status_code == 200, token.text
    body = token.json()
    claims = await _claims(client, body["access_token"])
    assert claims["aud"] == [ORDERS, BILLING]
    assert body["scope"] == "openid profile orders.read billing.read"
    assert body["expires_in"] == 90
    assert "id_token" in body

    orders = await refresh(client, rp, body["refresh_token"], resource=ORDERS)
    assert orders.status_code == 200, orders.text
    assert (await _claims(client, orders.json()["access_token"]))["aud"] == ORDERS
    assert orders.json()["scope"] == "openid profile orders.read"

    hr = await refresh(client, rp, orders.json()["refresh_token"], resource="https://hr.example")
    assert hr.status_code == 400
    assert hr.json()["error"] == "invalid_target"

    billing = await refresh(client, rp, orders.json()["refresh_token"], resource=BILLING)
    assert billing.status_code == 200, billing.text
    access = billing.json()["access_token"]
    assert (await _claims(client, access))["scope"] == "openid profile billing.read"

    # Introspection returns the audience of an access token, and the grant's resources for a
    # refresh token.
    seen = await client.post("/introspect", data={"token": access}, auth=rp.basic())
    assert seen.json()["aud"] == BILLING
    family = await client.post(
        "/introspect", data={"token": billing.json()["refresh_token"]}, auth=rp.basic()
    )
    assert family.json()["aud"] == [ORDERS, BILLING]
    # The user-info scopes stay: /userinfo still answers a token for an API.
    info = await client.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert info.status_code == 200
    # The audience rule: a token for an API never reaches the account API.
    me = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 401


async def test_an_unknown_resource_goes_back_to_the_client_as_invalid_target(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await _setup(client)
    _, challenge = pkce_pair()
    for resource in ("https://unknown.example", "https://orders.example.com/api#x", "relative"):
        params = list(
            auth_params(rp, code_challenge=challenge, code_challenge_method="S256").items()
        )
        response = await client.get("/authorize?" + urlencode([*params, ("resource", resource)]))
        assert response.status_code == 302, response.text[:300]
        error = query_of(response.headers["location"])
        assert error["error"] == "invalid_target"
        assert error["state"] == dict(params)["state"]


async def test_an_api_scope_without_its_resource_is_not_requestable(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await _setup(client)
    _, challenge = pkce_pair()
    params = auth_params(
        rp, scope="openid orders.read", code_challenge=challenge, code_challenge_method="S256"
    )
    response = await client.get("/authorize?" + urlencode(params))
    assert query_of(response.headers["location"])["error"] == "invalid_scope"


async def test_token_requests_with_bad_resources(server: Server, client: httpx.AsyncClient) -> None:
    rp = await _setup(client)
    service = await register_client(redirect_uris=[], grant_types=["client_credentials"], scopes=[])
    for resource in ("not a uri", "https://a.example/#frag", "https://unknown.example"):
        answer = await client.post(
            "/token",
            data={"grant_type": "client_credentials", "resource": resource},
            auth=service.basic(),
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_target"
    good = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "resource": ORDERS, "scope": "orders.read"},
        auth=service.basic(),
    )
    assert good.status_code == 200, good.text
    assert (await _claims(client, good.json()["access_token"]))["aud"] == ORDERS
    # A code redeemed with a resource outside its request is refused and stays redeemable.
    verifier, challenge = pkce_pair()
    async with httpx.AsyncClient(base_url=server.url) as http:
        result = await _authorize(
            Browser(http),
            rp,
            [ORDERS],
            scope="openid orders.read",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    wrong = await client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            "resource": BILLING,
        },
        auth=rp.basic(),
    )
    assert wrong.json()["error"] == "invalid_target"
    right = await redeem_code(client, rp, result["code"], verifier=verifier)
    assert right.status_code == 200, right.text
    assert (await _claims(client, right.json()["access_token"]))["aud"] == ORDERS


async def test_the_consent_page_names_the_api_of_each_scope(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await _setup(client)
    _, challenge = pkce_pair()
    params = auth_params(
        rp,
        scope="openid orders.read billing.read",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    pairs = [*params.items(), ("resource", ORDERS), ("resource", BILLING)]
    async with httpx.AsyncClient(base_url=server.url) as http:
        browser = Browser(http)
        page = await browser.follow(await http.get("/authorize?" + urlencode(pairs)))
        page = await browser.submit_login(page, "ada@example.com", PASSWORD)
    assert is_consent_page(page)
    assert "Use orders.read at Orders" in page.text
    assert "Use billing.read at Billing" in page.text
    assert "Confirm who you are" in page.text

    # In the reader's language, with the scope and the API's name as they are.
    async with httpx.AsyncClient(base_url=server.url) as http:
        browser = Browser(http)
        german = [*pairs, ("ui_locales", "de")]
        page = await browser.follow(await http.get("/authorize?" + urlencode(german)))
        page = await browser.submit_login(page, "ada@example.com", PASSWORD)
    assert is_consent_page(page)
    assert "orders.read bei Orders verwenden" in page.text
