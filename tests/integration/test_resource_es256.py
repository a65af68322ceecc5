"""A resource server that wants ES256 tokens, on a provider whose key set holds an EC key beside
the RSA key: the token is signed with the EC key, verifies against the published JWKS, and the
provider's other tokens stay RS256."""

from __future__ import annotations

import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from provider.crypto.keys import write_key
from provider.storage.models import ResourceServer
from tests.oidc import register_client

API = "https://orders.example.com/api"


async def test_es256_tokens_verify_against_the_jwks(
    server_with,  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    keys_dir = tmp_path_factory.mktemp("ec-keys")
    write_key(keys_dir, "RS256", active_from=time.time() - 10)
    ec = write_key(keys_dir, "ES256", active_from=time.time() - 10)
    server = await server_with(keys_dir=str(keys_dir))
    await ResourceServer.create(
        identifier=API, name="Orders", scopes=["orders.read"], signing_alg="ES256"
    )
    service = await register_client(redirect_uris=[], grant_types=["client_credentials"], scopes=[])
    async with httpx.AsyncClient(base_url=server.url) as http:
        jwks = (await http.get("/jwks")).json()
        assert {key["alg"] for key in jwks["keys"]} == {"RS256", "ES256"}
        keys = KeySet.import_key_set(jwks)

        for_api = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "resource": API, "scope": "orders.read"},
            auth=service.basic(),
        )
        assert for_api.status_code == 200, for_api.text
        token = jwt.decode(for_api.json()["access_token"], keys, algorithms=["ES256"])
        assert (token.header["alg"], token.header["kid"]) == ("ES256", ec.kid)
        assert (token.claims["aud"], token.claims["scope"]) == (API, "orders.read")

        plain = await http.post(
            "/token", data={"grant_type": "client_credentials"}, auth=service.basic()
        )
        assert jwt.decode(plain.json()["access_token"], keys).header["alg"] == "RS256"
