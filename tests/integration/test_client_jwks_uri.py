"""private_key_jwt clients with a jwks_uri: the fetch is guarded, cached and shared."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.admin_support import admin
from tests.assertions import jwt_client, public_jwk, sign_assertion, with_assertion
from tests.https_server import HttpsServer, https_server
from tests.support import Server, assert_error

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    with https_server(tmp_path_factory.mktemp("https")) as server:
        yield server


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


@pytest.fixture
async def dev_server(server_with, remote: HttpsServer, rsa_key: RSAKey) -> Server:  # type: ignore[no-untyped-def]
    """A server allowed to fetch from loopback, trusting the test CA."""
    remote.documents.hits.clear()
    remote.documents.cache_control = "max-age=300"
    remote.documents.jwks = {"keys": [public_jwk(rsa_key)]}
    server: Server = await server_with(
        outbound_allow_private="true", outbound_ca_file=str(remote.ca_file)
    )
    return server


async def _token(
    http: httpx.AsyncClient, server: Server, client_id: str, key: RSAKey, **claims: object
) -> httpx.Response:
    assertion = sign_assertion(key, client_id, server.url + "/token", **claims)
    return await http.post(
        "/token", data=with_assertion(client_id, assertion, **CLIENT_CREDENTIALS)
    )


async def test_concurrent_token_requests_fetch_the_jwks_once(
    dev_server: Server, remote: HttpsServer, rsa_key: RSAKey
) -> None:
    # A path of its own, so no earlier test's cached copy answers.
    rp = await jwt_client(jwks_uri=remote.url + "/jwks?concurrent")
    async with httpx.AsyncClient(base_url=dev_server.url, timeout=30) as http:
        responses = await asyncio.gather(
            *(_token(http, dev_server, rp.client_id, rsa_key) for _ in range(5))
        )
        assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
        assert remote.documents.hits["/jwks"] == 1
        # Cached: a later request fetches nothing either.
        assert (await _token(http, dev_server, rp.client_id, rsa_key)).status_code == 200
    assert remote.documents.hits["/jwks"] == 1


async def test_an_unknown_kid_refetches_at_most_once_per_interval(
    dev_server: Server, remote: HttpsServer, rsa_key: RSAKey
) -> None:
    rp = await jwt_client(jwks_uri=remote.url + "/jwks?kid")
    stranger = RSAKey.generate_key(2048, private=True)
    async with httpx.AsyncClient(base_url=dev_server.url, timeout=30) as http:
        assert (await _token(http, dev_server, rp.client_id, rsa_key)).status_code == 200
        for _ in range(5):
            response = await _token(http, dev_server, rp.client_id, stranger)
            assert response.status_code == 401
    # The first fetch, and no refetch within the minute for the made-up kid.
    assert remote.documents.hits["/jwks"] == 1


@pytest.mark.parametrize("path", ["/slow", "/big", "/big-chunked", "/redirect", "/html"])
async def test_a_hostile_jwks_uri_is_invalid_client(
    dev_server: Server, remote: HttpsServer, rsa_key: RSAKey, path: str
) -> None:
    rp = await jwt_client(jwks_uri=remote.url + path)
    # The slow drip lasts 60 s; the provider's total deadline (5 s) ends it well before this.
    async with httpx.AsyncClient(base_url=dev_server.url, timeout=30) as http:
        response = await _token(http, dev_server, rp.client_id, rsa_key)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        # Remembered as failed: the next request does not fetch again.
        assert (await _token(http, dev_server, rp.client_id, rsa_key)).status_code == 401
    assert remote.documents.hits[path] == 1
    assert remote.documents.hits["/jwks"] == 0


async def test_loopback_is_refused_without_the_dev_setting(
    server: Server, client: httpx.AsyncClient, remote: HttpsServer, rsa_key: RSAKey
) -> None:
    remote.documents.hits.clear()
    rp = await jwt_client(jwks_uri=remote.url + "/jwks?loopback")  # localhost: a name
    response = await _token(client, server, rp.client_id, rsa_key)
    assert response.status_code == 401
    assert remote.documents.hits["/jwks"] == 0


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://elsewhere.example/token"},
        {"exp": int(time.time()) - 600},
        {"exp": 1e30},
        {"iss": "someone-else"},
        {"jti": None},
    ],
)
async def test_a_malformed_assertion_fetches_nothing(
    dev_server: Server, remote: HttpsServer, rsa_key: RSAKey, claims: dict[str, object]
) -> None:
    """Anyone can name a client: only an assertion that could pass leads to a fetch."""
    rp = await jwt_client(jwks_uri=remote.url + "/jwks?malformed")
    async with httpx.AsyncClient(base_url=dev_server.url, timeout=30) as http:
        response = await _token(http, dev_server, rp.client_id, rsa_key, **claims)
    assert response.status_code == 401
    assert remote.documents.hits["/jwks"] == 0


@pytest.mark.parametrize(
    "jwks_uri",
    [
        "http://keys.example.com/jwks",
        "https://127.0.0.1:5432/",
        "https://[::1]/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.8/jwks",
        "https://[::ffff:127.0.0.1]/jwks",
    ],
)
async def test_registration_refuses_a_private_or_plain_http_jwks_uri(
    server: Server, client: httpx.AsyncClient, jwks_uri: str
) -> None:
    headers = await admin(client)
    body = {
        "name": "Service",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": jwks_uri,
    }
    error = assert_error(await client.post("/v1/admin/clients", json=body, headers=headers), 400)
    assert "jwks_uri" in error["message"]
