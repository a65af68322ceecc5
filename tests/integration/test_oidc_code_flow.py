"""The authorization-code flow end to end over HTTP, and the token it yields."""

from __future__ import annotations

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.oidc import Browser, pkce_pair, register_client, sign_in_and_get_code
from tests.support import PASSWORD, Server, register


async def test_code_flow_with_pkce(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    verifier, challenge = pkce_pair()
    async with httpx.AsyncClient(base_url=server.url) as http:
        browser = Browser(http)
        result, params = await sign_in_and_get_code(
            browser,
            rp,
            "ada@example.com",
            PASSWORD,
            code_challenge=challenge,
            code_challenge_method="S256",
            scope="openid profile email offline_access",
        )
    assert result["state"] == params["state"]
    assert result["iss"] == server.url
    token = await client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
        },
        auth=rp.basic(),
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert token.headers["cache-control"] == "no-store"
    jwks = KeySet.import_key_set((await client.get("/jwks")).json())
    id_token = jwt.decode(body["id_token"], jwks)
    assert id_token.claims["nonce"] == params["nonce"]
    assert id_token.claims["aud"] == rp.client_id
    assert "refresh_token" in body
    info = await client.get(
        "/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json()["email"] == "ada@example.com"
