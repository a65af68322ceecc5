"""Discovery metadata (OIDC Discovery 1.0 §3, RFC 8414), the JWKS, and which key signs ID tokens."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import JWKRegistry

from provider.crypto.keys import write_key
from tests.oidc import Browser, decode_jwt, key_set, left_half_hash, register_client
from tests.oidc import sign_in_for_tokens as sign_in
from tests.support import PASSWORD, Server, register

ENDPOINTS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/jwks",
    "introspection_endpoint": "/introspect",
    "revocation_endpoint": "/revoke",
    "end_session_endpoint": "/logout",
}


def _check_metadata(server: Server, metadata: dict[str, object]) -> None:
    assert metadata["issuer"] == server.url
    for name, path in ENDPOINTS.items():
        assert metadata[name] == server.url + path, name
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]  # type: ignore[operator]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["subject_types_supported"] == ["public"]
    assert set(metadata["response_modes_supported"]) == {"query", "form_post"}  # type: ignore[arg-type]
    assert set(metadata["grant_types_supported"]) == {  # type: ignore[arg-type]
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert "implicit" not in metadata["grant_types_supported"]  # type: ignore[operator]
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt"} <= set(
        metadata["token_endpoint_auth_methods_supported"]  # type: ignore[arg-type]
    )
    assert {"openid", "profile", "email", "offline_access"} <= set(
        metadata["scopes_supported"]  # type: ignore[arg-type]
    )
    assert metadata["request_parameter_supported"] is False
    assert metadata["request_uri_parameter_supported"] is False
    assert {"sub", "iss", "auth_time", "acr", "nonce"} <= set(
        metadata["claims_supported"]  # type: ignore[arg-type]
    )


async def test_openid_configuration(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    _check_metadata(server, response.json())


async def test_oauth_authorization_server_metadata(
    server: Server, client: httpx.AsyncClient
) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    _check_metadata(server, response.json())
    oidc = await client.get("/.well-known/openid-configuration")
    assert response.json() == oidc.json()


@pytest.mark.parametrize(
    "path",
    ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks"],
)
async def test_etag_and_not_modified(client: httpx.AsyncClient, path: str) -> None:
    first = await client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert "max-age" in first.headers["cache-control"]
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.content == first.content


async def test_jwks_kids_are_rfc7638_thumbprints(client: httpx.AsyncClient) -> None:
    response = await client.get("/jwks")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    keys = response.json()["keys"]
    assert keys
    for jwk in keys:
        private_members = {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
        assert not private_members, jwk
        assert jwk["use"] == "sig"
        assert jwk["alg"] in ("RS256", "ES256", "Ed25519")
        assert jwk["kid"] == JWKRegistry.import_key(jwk).thumbprint()
    assert any(jwk["alg"] == "RS256" for jwk in keys)


async def test_id_token_kid_is_published(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in(browser, rp, "ada@example.com", PASSWORD)
    keys = (await client.get("/jwks")).json()["keys"]
    header, _ = decode_jwt(body["id_token"], await key_set(client))
    assert header["alg"] == "RS256"
    assert header["kid"] in {jwk["kid"] for jwk in keys}
    access_header, _ = decode_jwt(body["access_token"], await key_set(client))
    assert access_header["typ"] == "at+jwt"
    assert access_header["kid"] in {jwk["kid"] for jwk in keys}


@pytest.fixture(scope="session")
def es256_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keys folder with an RS256 and an ES256 key, both signing now."""
    keys_dir = tmp_path_factory.mktemp("keys-es256")
    write_key(keys_dir, "RS256", active_from=time.time())
    write_key(keys_dir, "ES256", active_from=time.time())
    return keys_dir


async def test_es256_client_gets_es256_id_token(server_with, es256_keys_dir: Path) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(keys_dir=str(es256_keys_dir))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        metadata = (await client.get("/.well-known/openid-configuration")).json()
        assert {"RS256", "ES256"} <= set(metadata["id_token_signing_alg_values_supported"])
        await register(client)
        rp = await register_client(id_token_alg="ES256")
        async with Browser.open(server.url) as browser:
            body, params = await sign_in(browser, rp, "ada@example.com", PASSWORD)
        keys = await key_set(client)
        header, claims = decode_jwt(body["id_token"], keys)
        published = {jwk["kid"]: jwk for jwk in (await client.get("/jwks")).json()["keys"]}
    assert header["alg"] == "ES256"
    assert published[header["kid"]]["alg"] == "ES256"
    assert published[header["kid"]]["crv"] == "P-256"
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == params["nonce"]
    # ES256 hashes with SHA-256 too (OIDC Core §3.1.3.6).
    assert claims["at_hash"] == left_half_hash(body["access_token"])
