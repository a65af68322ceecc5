"""Client authentication at the token endpoint (RFC 6749 §2.3, §5.2; RFC 7523; OIDC Core §9)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from provider.storage.models import AuditEvent, Client
from tests.assertions import ASSERTION_TYPE, jwt_client, sign_assertion, with_assertion
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    decode_jwt,
    key_set,
    pkce_pair,
    redeem_code,
    redirect_query,
    register_client,
    sign_in_and_get_code,
    token_request,
)
from tests.support import PASSWORD, Server, register

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


def _assert_invalid_client(response: httpx.Response, basic: bool) -> None:
    assert response.status_code == 401, (response.status_code, response.text)
    assert response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"
    if basic:
        # RFC 6749 §5.2: with Basic, a 401 names the scheme the client used.
        assert response.headers["www-authenticate"].startswith("Basic")
    assert "access_token" not in response.text


async def _service(**overrides: Any) -> RegisteredClient:
    return await register_client(
        **{
            "name": "Service",
            "redirect_uris": [],
            "grant_types": ["client_credentials"],
            "scopes": ["openid"],
            **overrides,
        }
    )


async def test_wrong_secret_with_basic(server: Server, client: httpx.AsyncClient) -> None:
    rp = await _service()
    response = await client.post(
        "/token", data=CLIENT_CREDENTIALS, auth=httpx.BasicAuth(rp.client_id, "wrong")
    )
    _assert_invalid_client(response, basic=True)
    malformed = await client.post(
        "/token", data=CLIENT_CREDENTIALS, headers={"Authorization": "Basic !!!"}
    )
    _assert_invalid_client(malformed, basic=True)
    no_colon = base64.b64encode(rp.client_id.encode()).decode()
    response = await client.post(
        "/token", data=CLIENT_CREDENTIALS, headers={"Authorization": f"Basic {no_colon}"}
    )
    _assert_invalid_client(response, basic=True)


async def test_wrong_secret_with_post(server: Server, client: httpx.AsyncClient) -> None:
    rp = await _service(auth_method="client_secret_post")
    response = await client.post(
        "/token",
        data={**CLIENT_CREDENTIALS, "client_id": rp.client_id, "client_secret": "wrong"},
    )
    _assert_invalid_client(response, basic=False)
    right = await token_request(client, rp, CLIENT_CREDENTIALS, auth="post")
    assert right.status_code == 200, right.text


async def test_two_methods_at_once(server: Server, client: httpx.AsyncClient) -> None:
    rp = await _service()
    assert rp.secret is not None
    response = await client.post(
        "/token",
        data={**CLIENT_CREDENTIALS, "client_id": rp.client_id, "client_secret": rp.secret},
        auth=rp.basic(),
    )
    _assert_invalid_client(response, basic=True)
    response = await client.post(
        "/token",
        data={
            **CLIENT_CREDENTIALS,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": "a.b.c",
        },
        auth=rp.basic(),
    )
    _assert_invalid_client(response, basic=True)


async def test_method_must_be_the_registered_one(server: Server, client: httpx.AsyncClient) -> None:
    post_client = await _service(auth_method="client_secret_post")
    basic_client = await _service()
    _assert_invalid_client(
        await token_request(client, post_client, CLIENT_CREDENTIALS, auth="basic"), basic=True
    )
    _assert_invalid_client(
        await token_request(client, basic_client, CLIENT_CREDENTIALS, auth="post"), basic=False
    )
    # A confidential client cannot pass itself off as public by sending only its client_id.
    _assert_invalid_client(
        await token_request(client, basic_client, CLIENT_CREDENTIALS, auth="none"), basic=False
    )


async def test_unknown_and_mismatched_client_ids(server: Server, client: httpx.AsyncClient) -> None:
    rp = await _service()
    assert rp.secret is not None
    unknown = await client.post(
        "/token", data=CLIENT_CREDENTIALS, auth=httpx.BasicAuth("no-such-client", rp.secret)
    )
    _assert_invalid_client(unknown, basic=True)
    too_long = await client.post(
        "/token", data=CLIENT_CREDENTIALS, auth=httpx.BasicAuth("x" * 200, rp.secret)
    )
    _assert_invalid_client(too_long, basic=True)
    too_long = await client.post("/token", data={**CLIENT_CREDENTIALS, "client_id": "x" * 200})
    _assert_invalid_client(too_long, basic=False)
    other = await _service()
    mismatch = await client.post(
        "/token", data={**CLIENT_CREDENTIALS, "client_id": other.client_id}, auth=rp.basic()
    )
    _assert_invalid_client(mismatch, basic=True)
    nothing = await client.post("/token", data=CLIENT_CREDENTIALS)
    _assert_invalid_client(nothing, basic=False)


async def test_disabled_client_is_refused(server: Server, client: httpx.AsyncClient) -> None:
    rp = await _service()
    assert (await token_request(client, rp, CLIENT_CREDENTIALS)).status_code == 200
    await Client.filter(id=rp.client_id).update(disabled=True)
    _assert_invalid_client(await token_request(client, rp, CLIENT_CREDENTIALS), basic=True)
    introspect = await client.post("/introspect", data={"token": "x"}, auth=rp.basic())
    _assert_invalid_client(introspect, basic=True)


async def test_disabled_client_cannot_redeem_its_code(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        result, _ = await sign_in_and_get_code(browser, rp, "ada@example.com", PASSWORD)
    await Client.filter(id=rp.client_id).update(disabled=True)
    _assert_invalid_client(await redeem_code(client, rp, result["code"]), basic=True)
    assert await AuditEvent.filter(event="token.issued").count() == 0


# --- private_key_jwt (RFC 7523 §2.2, OIDC Core §9) -------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


async def test_private_key_jwt(server: Server, client: httpx.AsyncClient, rsa_key: RSAKey) -> None:
    rp = await jwt_client(rsa_key)
    assert rp.secret is None  # it authenticates with its key: no secret is issued at all
    assert (await Client.get(id=rp.client_id)).secret_hash is None
    assertion = sign_assertion(rsa_key, rp.client_id, server.url + "/token")
    response = await client.post(
        "/token", data=with_assertion(rp.client_id, assertion, **CLIENT_CREDENTIALS)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    _, claims = decode_jwt(response.json()["access_token"], await key_set(client))
    assert claims["client_id"] == rp.client_id
    # RFC 7523 §3: a jti is accepted once.
    replay = await client.post(
        "/token", data=with_assertion(rp.client_id, assertion, **CLIENT_CREDENTIALS)
    )
    _assert_invalid_client(replay, basic=False)
    # The issuer itself is an acceptable audience too (OIDC Core §9).
    by_issuer = sign_assertion(rsa_key, rp.client_id, server.url)
    response = await client.post(
        "/token", data=with_assertion(rp.client_id, by_issuer, **CLIENT_CREDENTIALS)
    )
    assert response.status_code == 200, response.text


async def test_private_key_jwt_with_an_es256_key(server: Server, client: httpx.AsyncClient) -> None:
    key = ECKey.generate_key("P-256", private=True)
    rp = await jwt_client(key)
    assertion = sign_assertion(key, rp.client_id, server.url + "/token", alg="ES256")
    response = await client.post(
        "/token", data=with_assertion(rp.client_id, assertion, **CLIENT_CREDENTIALS)
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "case",
    [
        "wrong_key",
        "wrong_audience",
        "expired",
        "no_jti",
        "no_exp",
        "other_issuer",
        "other_subject",
        "wrong_type",
        "unsigned",
        "exp_too_far_ahead",
        "huge_exp",
        "iat_in_the_future",
        "exp_not_a_number",
        "aud_elsewhere_in_a_list",
    ],
)
async def test_private_key_jwt_refusals(
    server: Server, client: httpx.AsyncClient, rsa_key: RSAKey, case: str
) -> None:
    rp = await jwt_client(rsa_key)
    other = await jwt_client(RSAKey.generate_key(2048, private=True))
    audience = server.url + "/token"
    assertion = {
        "wrong_key": lambda: sign_assertion(
            RSAKey.generate_key(2048, private=True), rp.client_id, audience
        ),
        "wrong_audience": lambda: sign_assertion(
            rsa_key, rp.client_id, "https://other.example/token"
        ),
        "expired": lambda: sign_assertion(
            rsa_key, rp.client_id, audience, exp=int(time.time()) - 120
        ),
        "no_jti": lambda: sign_assertion(rsa_key, rp.client_id, audience, jti=None),
        "no_exp": lambda: sign_assertion(rsa_key, rp.client_id, audience, exp=None),
        "other_issuer": lambda: sign_assertion(
            rsa_key, rp.client_id, audience, iss=other.client_id
        ),
        "other_subject": lambda: sign_assertion(
            rsa_key, other.client_id, audience, iss=rp.client_id
        ),
        "wrong_type": lambda: sign_assertion(rsa_key, rp.client_id, audience),
        "unsigned": lambda: _unsigned(rp.client_id, audience),
        # RFC 7523 §3: the server limits assertion lifetimes (5 minutes here).
        "exp_too_far_ahead": lambda: sign_assertion(
            rsa_key, rp.client_id, audience, exp=int(time.time()) + 600
        ),
        "huge_exp": lambda: sign_assertion(rsa_key, rp.client_id, audience, exp=1e30),
        "iat_in_the_future": lambda: sign_assertion(
            rsa_key, rp.client_id, audience, iat=int(time.time()) + 600
        ),
        "exp_not_a_number": lambda: sign_assertion(
            rsa_key, rp.client_id, audience, exp=str(int(time.time()) + 60)
        ),
        "aud_elsewhere_in_a_list": lambda: sign_assertion(
            rsa_key, rp.client_id, ["https://a.example/token", "https://b.example/token"]
        ),
    }[case]()
    data = with_assertion(rp.client_id, assertion, **CLIENT_CREDENTIALS)
    if case == "wrong_type":
        data["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    _assert_invalid_client(await client.post("/token", data=data), basic=False)


def _unsigned(client_id: str, audience: str) -> str:
    def encode(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "exp": now + 60, "jti": "x"}
    return f"{encode({'alg': 'none'})}.{encode(claims)}."


async def test_private_key_jwt_redeems_a_code(
    server: Server, client: httpx.AsyncClient, rsa_key: RSAKey
) -> None:
    await register(client)
    rp = await jwt_client(
        rsa_key,
        name="Web App",
        redirect_uris=["http://127.0.0.1:9/callback"],
        grant_types=["authorization_code"],
        scopes=["openid", "profile"],
    )
    verifier, challenge = pkce_pair()
    params = auth_params(rp, scope="openid", code_challenge=challenge, code_challenge_method="S256")
    async with Browser.open(server.url) as browser:
        response = await browser.authorize(params)
        response = await browser.submit_login(response, "ada@example.com", PASSWORD)
        response = await browser.submit_consent(response)
    code = redirect_query(response, rp)["code"]
    assertion = sign_assertion(rsa_key, rp.client_id, server.url + "/token")
    response = await client.post(
        "/token",
        data=with_assertion(
            rp.client_id,
            assertion,
            grant_type="authorization_code",
            code=code,
            redirect_uri=rp.redirect_uri,
            code_verifier=verifier,
        ),
    )
    assert response.status_code == 200, response.text
    _, claims = decode_jwt(response.json()["id_token"], await key_set(client))
    assert claims["aud"] == rp.client_id


# --- hostile input never reaches the database or the JSON parser's recursion limit -----------


@pytest.mark.parametrize("endpoint", ["/token", "/introspect", "/revoke"])
@pytest.mark.parametrize("client_id", ["svc\x00", "\x00", "a\x01b", "a\u200bb", "a\nb"])
async def test_non_printable_client_ids_are_unknown_clients(
    server: Server, client: httpx.AsyncClient, endpoint: str, client_id: str
) -> None:
    data = {**CLIENT_CREDENTIALS, "token": "x"}
    basic = base64.b64encode(f"{client_id}:secret".encode()).decode()
    response = await client.post(endpoint, data=data, headers={"Authorization": f"Basic {basic}"})
    _assert_invalid_client(response, basic=True)
    response = await client.post(
        endpoint, data={**data, "client_id": client_id, "client_secret": "secret"}
    )
    if "\x00" in client_id:
        # The form parser refuses a NUL in any OAuth parameter before client authentication.
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
    else:
        _assert_invalid_client(response, basic=False)


def _encoded(part: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("where", ["payload", "header", "claim", "garbage"])
async def test_unparsable_assertions_are_invalid_client(
    server: Server, client: httpx.AsyncClient, rsa_key: RSAKey, where: str
) -> None:
    rp = await jwt_client(rsa_key)
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": server.url + "/token"}
    deep = base64.urlsafe_b64encode(_nested(2_500).encode()).rstrip(b"=").decode()
    assertion = {
        "payload": f"{_encoded({'alg': 'RS256'})}.{deep}.c2ln",
        "header": f"{deep}.{_encoded(claims)}.c2ln",
        "claim": (
            f"{_encoded({'alg': 'RS256'})}."
            + base64.urlsafe_b64encode(
                ('{"sub": "' + rp.client_id + '", "x": ' + _nested(2_500) + "}").encode()
            )
            .rstrip(b"=")
            .decode()
            + ".c2ln"
        ),
        "garbage": "a.!!!.b",
    }[where]
    response = await client.post(
        "/token", data=with_assertion(rp.client_id, assertion, **CLIENT_CREDENTIALS)
    )
    _assert_invalid_client(response, basic=False)
