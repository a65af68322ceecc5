"""The authorization endpoint: request validation, prompt/max_age/hints, consent, error redirects
with `state` and `iss` (RFC 9207), and no redirect at all where it is not safe (open redirects)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from provider.storage.models import AuditEvent, AuthorizationCode, Client, Consent, Session, User
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    csrf_of,
    decode_jwt,
    flow_of,
    hidden_fields,
    is_consent_page,
    is_login_page,
    key_set,
    pkce_pair,
    redeem_code,
    redirect_query,
    register_client,
    sign_in_and_get_code,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, bearer, register

EMAIL = "ada@example.com"


async def _id_token_claims(client: httpx.AsyncClient, rp: RegisteredClient, code: str) -> Any:
    response = await redeem_code(client, rp, code)
    assert response.status_code == 200, response.text
    _, claims = decode_jwt(response.json()["id_token"], await key_set(client))
    return claims


def _assert_error_redirect(
    response: httpx.Response, rp: RegisteredClient, server: Server, error: str, state: str
) -> dict[str, str]:
    query = redirect_query(response, rp)
    assert query["error"] == error, query
    assert query["state"] == state
    assert query["iss"] == server.url
    assert "code" not in query
    return query


def _assert_error_page(response: httpx.Response) -> None:
    """Our own error page, and no way back to the client (RFC 6749 §4.1.2.1)."""
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@asynccontextmanager
async def _signed_in(server: Server, rp: RegisteredClient, **extra: str) -> AsyncIterator[Browser]:
    """A browser signed in, and consented for `rp`."""
    async with Browser.open(server.url) as browser:
        result, _ = await sign_in_and_get_code(browser, rp, EMAIL, PASSWORD, **extra)
        assert "code" in result
        browser.pages.clear()
        yield browser


# --- Request parameters ----------------------------------------------------------------------


async def test_profile_and_email_scopes_in_id_token(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client, username="ada")
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        profile, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope="openid profile")
        email, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope="openid email")
    keys = await key_set(client)
    _, claims = decode_jwt(profile["id_token"], keys)
    stored = await User.get(id=user["id"])
    assert claims["name"] == "Ada"
    assert claims["preferred_username"] == "ada"
    assert claims["updated_at"] == int(stored.updated_at.timestamp())
    assert "email" not in claims
    _, claims = decode_jwt(email["id_token"], keys)
    assert claims["email"] == EMAIL
    assert claims["email_verified"] is False
    assert "name" not in claims


async def test_address_phone_and_all_scopes(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client, username="ada")
    address = {"street_address": "1 Main St", "locality": "Springfield", "country": "US"}
    await User.filter(id=user["id"]).update(phone_number="+15555550100", address=address)
    rp = await register_client()
    everything = "openid profile email address phone"
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope="openid address")
        phone, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope="phone openid")
        full, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope=everything)
    keys = await key_set(client)
    _, claims = decode_jwt(body["id_token"], keys)
    assert claims["address"] == address
    assert "phone_number" not in claims
    _, claims = decode_jwt(phone["id_token"], keys)
    assert claims["phone_number"] == "+15555550100"
    assert claims["phone_number_verified"] is False
    assert "address" not in claims
    info = await client.get("/userinfo", headers=bearer(full["access_token"]))
    assert info.status_code == 200
    assert {
        "sub",
        "name",
        "preferred_username",
        "updated_at",
        "email",
        "email_verified",
        "address",
        "phone_number",
        "phone_number_verified",
    } <= set(info.json())


async def test_claims_parameter_is_ignored(server: Server, client: httpx.AsyncClient) -> None:
    """claims_parameter_supported is false: a claims request neither fails nor adds claims."""
    await register(client)
    rp = await register_client()
    claims_request = json.dumps({"userinfo": {"name": {"essential": True}}})
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(
            browser, rp, EMAIL, PASSWORD, scope="openid email", claims=claims_request
        )
    info = (await client.get("/userinfo", headers=bearer(body["access_token"]))).json()
    assert "name" not in info
    assert info["email"] == EMAIL


async def test_parameter_order_does_not_matter(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    params = auth_params(rp)
    shuffled = list(reversed(list(params.items())))
    shuffled = shuffled[2:] + shuffled[:2]
    async with Browser.open(server.url) as browser:
        response = await browser.follow(await browser.http.get("/authorize?" + urlencode(shuffled)))
        assert is_login_page(response)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        response = await browser.submit_consent(response)
    query = redirect_query(response, rp)
    assert query["state"] == params["state"]
    claims = await _id_token_claims(client, rp, query["code"])
    assert claims["nonce"] == params["nonce"]


@pytest.mark.parametrize("extra", [{"display": "page"}, {"display": "popup"}, {"foo": "bar"}])
async def test_display_and_unknown_parameters_are_accepted(
    server: Server, client: httpx.AsyncClient, extra: dict[str, str]
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        result, params = await sign_in_and_get_code(browser, rp, EMAIL, PASSWORD, **extra)
    assert result["state"] == params["state"]
    assert result["iss"] == server.url
    assert (await redeem_code(client, rp, result["code"])).status_code == 200


async def test_authorization_request_by_post(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    params = auth_params(rp)
    async with Browser.open(server.url) as browser:
        response = await browser.authorize(params, method="POST")
        assert is_login_page(response)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        response = await browser.submit_consent(response)
    query = redirect_query(response, rp)
    assert query["state"] == params["state"]
    assert query["iss"] == server.url
    claims = await _id_token_claims(client, rp, query["code"])
    assert claims["nonce"] == params["nonce"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://rp.example/request.jwt"}, "request_uri_not_supported"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "sometimes"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
    ],
)
async def test_invalid_requests_redirect_with_error_state_and_iss(
    server: Server, client: httpx.AsyncClient, change: dict[str, str | None], error: str
) -> None:
    rp = await register_client()
    params: dict[str, str] = auth_params(rp)
    for name, value in change.items():
        if value is None:
            params.pop(name)
        else:
            params[name] = value
    response = await client.get("/authorize?" + urlencode(params))
    _assert_error_redirect(response, rp, server, error, params["state"])
    assert await AuthorizationCode.all().count() == 0


async def test_nonce_length_limit(server: Server, client: httpx.AsyncClient) -> None:
    """A nonce too long to store is refused up front, not a crash after the user signed in."""
    await register(client)
    rp = await register_client()
    params = auth_params(rp, nonce="n" * 513)
    response = await client.get("/authorize?" + urlencode(params))
    _assert_error_redirect(response, rp, server, "invalid_request", params["state"])
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, nonce="n" * 512)
    _, claims = decode_jwt(body["id_token"], await key_set(client))
    assert claims["nonce"] == "n" * 512


async def test_form_post_response_mode(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    params = auth_params(rp, response_mode="form_post")
    async with Browser.open(server.url) as browser:
        response = await browser.authorize(params)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        response = await browser.submit_consent(response)
    assert response.status_code == 200, response.text[:500]
    assert "location" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert f'action="{rp.redirect_uri}"' in response.text
    fields = hidden_fields(response.text)
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == params["state"]
    assert fields["iss"] == server.url
    csp = response.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp)
    assert nonce, csp
    assert f'<script nonce="{nonce.group(1)}">' in response.text
    assert rp.redirect_uri in csp.split("form-action")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert (await redeem_code(client, rp, fields["code"])).status_code == 200


async def test_form_post_error_response(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client()
    params = auth_params(rp, response_mode="form_post", response_type="token")
    response = await client.get("/authorize?" + urlencode(params))
    assert response.status_code == 200
    fields = hidden_fields(response.text)
    assert fields["error"] == "unsupported_response_type"
    assert fields["state"] == params["state"]
    assert fields["iss"] == server.url


async def test_reflected_values_are_escaped(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    evil = '"><script>alert(1)</script>'
    async with Browser.open(server.url) as browser:
        login = await browser.authorize(auth_params(rp, login_hint=evil))
        assert is_login_page(login)
        assert "<script>alert(1)" not in login.text
        params = auth_params(rp, response_mode="form_post", state=evil)
        response = await browser.authorize(params)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        response = await browser.submit_consent(response)
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert hidden_fields(response.text)["state"] == evil


# --- prompt, max_age, hints ------------------------------------------------------------------


async def test_prompt_login_reauthenticates(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        first, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
        await asyncio.sleep(1.1)
        response = await browser.authorize(auth_params(rp, prompt="login"))
        assert is_login_page(response)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        query = redirect_query(response, rp)
    keys = await key_set(client)
    _, before = decode_jwt(first["id_token"], keys)
    after = await _id_token_claims(client, rp, query["code"])
    assert after["auth_time"] > before["auth_time"]
    assert after["sid"] == before["sid"]  # the same session, authenticated again
    assert await Session.all().count() == 1


async def test_prompt_none_when_signed_in(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with _signed_in(server, rp) as browser:
        params = auth_params(rp, prompt="none")
        response = await browser.authorize(params)
    assert browser.pages == []
    query = redirect_query(response, rp)
    assert query["state"] == params["state"]
    assert query["iss"] == server.url
    claims = await _id_token_claims(client, rp, query["code"])
    assert claims["nonce"] == params["nonce"]


async def test_prompt_none_when_signed_out(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client()
    params = auth_params(rp, prompt="none")
    response = await client.get("/authorize?" + urlencode(params))
    _assert_error_redirect(response, rp, server, "login_required", params["state"])


async def test_prompt_none_without_consent(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    other = await register_client(name="Other App")
    async with _signed_in(server, rp) as browser:
        params = auth_params(other, prompt="none")
        response = await browser.authorize(params)
    assert browser.pages == []
    _assert_error_redirect(response, other, server, "consent_required", params["state"])


async def test_prompt_consent_asks_again(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with _signed_in(server, rp) as browser:
        response = await browser.authorize(auth_params(rp, prompt="consent"))
        assert is_consent_page(response)
        response = await browser.submit_consent(response)
    assert "code" in redirect_query(response, rp)


async def test_max_age_exceeded_asks_to_sign_in(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with _signed_in(server, rp) as browser:
        await asyncio.sleep(2)
        response = await browser.authorize(auth_params(rp, max_age="1"))
        assert is_login_page(response)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        query = redirect_query(response, rp)
    claims = await _id_token_claims(client, rp, query["code"])
    # OIDC Core §3.1.2.1: auth_time is REQUIRED when max_age was requested.
    assert claims["auth_time"] >= claims["iat"] - 2


async def test_max_age_not_exceeded(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with _signed_in(server, rp) as browser:
        response = await browser.authorize(auth_params(rp, max_age="10000"))
    assert browser.pages == []
    claims = await _id_token_claims(client, rp, redirect_query(response, rp)["code"])
    assert isinstance(claims["auth_time"], int)


async def test_id_token_hint_of_the_signed_in_user(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
        browser.pages.clear()
        for extra in ({}, {"prompt": "none"}):
            response = await browser.authorize(
                auth_params(rp, id_token_hint=tokens["id_token"], **extra)
            )
            assert browser.pages == []
            assert "code" in redirect_query(response, rp)


async def test_id_token_hint_of_another_user(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    await register(client, email="bob@example.com")
    rp = await register_client()
    async with Browser.open(server.url) as bob:
        bobs, _ = await sign_in_for_tokens(bob, rp, "bob@example.com", PASSWORD)
    async with _signed_in(server, rp) as browser:
        params = auth_params(rp, id_token_hint=bobs["id_token"], prompt="none")
        response = await browser.authorize(params)
        _assert_error_redirect(response, rp, server, "login_required", params["state"])
        response = await browser.authorize(auth_params(rp, id_token_hint=bobs["id_token"]))
        assert is_login_page(response)


async def test_an_access_token_is_not_an_id_token_hint(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Same keys sign both: Bob's access token (typ at+jwt) is no hint that Bob is wanted, so the
    signed-in browser gets its own code, where Bob's ID token would have stopped it."""
    ada = await register(client)
    await register(client, email="bob@example.com")
    rp = await register_client()
    async with Browser.open(server.url) as bob:
        bobs, _ = await sign_in_for_tokens(bob, rp, "bob@example.com", PASSWORD)
    async with _signed_in(server, rp) as browser:
        for extra in ({"prompt": "none"}, {}):
            params = auth_params(rp, id_token_hint=bobs["access_token"], **extra)
            response = await browser.authorize(params)
            assert browser.pages == []
            query = redirect_query(response, rp)
            assert query["state"] == params["state"]
            assert (await _id_token_claims(client, rp, query["code"]))["sub"] == ada["id"]
        params = auth_params(rp, id_token_hint=bobs["id_token"], prompt="none")
        response = await browser.authorize(params)
        _assert_error_redirect(response, rp, server, "login_required", params["state"])


async def test_login_hint_prefills_the_identifier(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        response = await browser.authorize(auth_params(rp, login_hint="ada@example.com"))
    assert is_login_page(response)
    assert 'value="ada@example.com"' in response.text


async def test_locales_and_acr_values_are_accepted(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(
            browser,
            rp,
            EMAIL,
            PASSWORD,
            ui_locales="fr-CA fr en",
            claims_locales="de en",
            acr_values="1 urn:mace:incommon:iap:silver",
        )
    _, claims = decode_jwt(body["id_token"], await key_set(client))
    # OIDC Core §2: the acr the authentication met (a password: level 1).
    assert claims["acr"] == "1"
    assert claims["amr"] == ["pwd"]


# --- Consent ---------------------------------------------------------------------------------


async def test_consent_is_remembered(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client)
    rp = await register_client()
    async with _signed_in(server, rp, scope="openid profile") as browser:
        consent = await Consent.get(user_id=user["id"], client_id=rp.client_id)
        assert set(consent.scopes) == {"openid", "profile"}
        assert await AuditEvent.filter(event="consent.granted").count() == 1
        response = await browser.authorize(auth_params(rp, scope="openid profile"))
        assert browser.pages == []
        assert "code" in redirect_query(response, rp)
        # Asking for more than was granted asks again, and remembers the union.
        response = await browser.authorize(auth_params(rp, scope="openid email"))
        assert is_consent_page(response)
        assert 'data-scope="email"' in response.text
        response = await browser.submit_consent(response)
        assert "code" in redirect_query(response, rp)
    consent = await Consent.get(user_id=user["id"], client_id=rp.client_id)
    assert set(consent.scopes) == {"openid", "profile", "email"}


async def test_consent_denied(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    params = auth_params(rp)
    async with Browser.open(server.url) as browser:
        response = await browser.authorize(params)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        assert is_consent_page(response)
        response = await browser.submit_consent(response, decision="deny")
    _assert_error_redirect(response, rp, server, "access_denied", params["state"])
    assert await Consent.all().count() == 0
    assert await AuthorizationCode.all().count() == 0
    assert await AuditEvent.filter(event="consent.denied", outcome="failure").count() == 1


async def test_first_party_client_skips_consent(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client(first_party=True)
    async with Browser.open(server.url) as browser:
        response = await browser.authorize(auth_params(rp))
        response = await browser.submit_login(response, EMAIL, PASSWORD)
    assert "code" in redirect_query(response, rp)
    assert all(not page.startswith("/consent") for page in browser.pages)
    assert await Consent.all().count() == 0


async def test_consent_is_bound_to_the_session_that_gave_it(
    server: Server, client: httpx.AsyncClient
) -> None:
    """A flow consented in one browser, left unfinished, cannot be finished in another's."""
    await register(client, email="mallory@example.com")
    await register(client)
    rp = await register_client(name="Malicious App")
    bystander = await register_client(name="Unrelated App", first_party=True)
    async with Browser.open(server.url) as attacker, _signed_in(server, bystander) as browser:
        page = await attacker.authorize(auth_params(rp))
        page = await attacker.submit_login(page, "mallory@example.com", PASSWORD)
        assert is_consent_page(page)
        flow = flow_of(page.text)
        consented = await attacker.http.post(
            "/consent", data={"flow": flow, "csrf": csrf_of(page.text), "decision": "allow"}
        )
        assert consented.status_code == 303  # not followed: the flow stays open
        response = await browser.follow(await browser.http.get(f"/authorize/resume?flow={flow}"))
        assert is_consent_page(response), (response.status_code, response.headers)
        assert await AuthorizationCode.filter(client_id=rp.client_id).count() == 0


# --- PKCE at the authorization endpoint ------------------------------------------------------


async def test_pkce_plain_is_refused(server: Server, client: httpx.AsyncClient) -> None:
    rp = await register_client()
    verifier, _ = pkce_pair()
    for method in ("plain", None):
        params = auth_params(rp, code_challenge=verifier)
        if method:
            params["code_challenge_method"] = method
        response = await client.get("/authorize?" + urlencode(params))
        _assert_error_redirect(response, rp, server, "invalid_request", params["state"])


async def test_public_client_must_send_a_code_challenge(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await register_client(public=True)
    params = auth_params(rp)
    response = await client.get("/authorize?" + urlencode(params))
    query = _assert_error_redirect(response, rp, server, "invalid_request", params["state"])
    assert "PKCE" in query["error_description"]


# --- Open redirects (RFC 6749 §4.1.2.1, §3.1.2.3; RFC 9700 §4.1) -----------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback/evil",
        "http://127.0.0.1:9/call",
        "http://127.0.0.1:9/callback?x=1",
        "http://127.0.0.1:9/callback#frag",
        "http://127.0.0.1:9/CALLBACK",
        # Another loopback address is another URI; another port is not (RFC 8252 §7.3).
        "http://[::1]:9/callback",
        "http://localhost:9/callback",
        "http://127.0.0.1:9/callback.evil.example",
        None,
    ],
)
async def test_unregistered_redirect_uri_gets_an_error_page(
    server: Server, client: httpx.AsyncClient, redirect_uri: str | None
) -> None:
    rp = await register_client()
    params = auth_params(rp)
    if redirect_uri is None:
        params.pop("redirect_uri")
    else:
        params["redirect_uri"] = redirect_uri
    _assert_error_page(await client.get("/authorize?" + urlencode(params)))
    _assert_error_page(await client.post("/authorize", data=params))
    # Even with another error in the request, nothing is sent to the unverified address.
    _assert_error_page(
        await client.get("/authorize?" + urlencode({**params, "response_type": "x"}))
    )


async def test_unknown_or_disabled_client_gets_an_error_page(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await register_client()
    for client_id in ("no-such-client", "x" * 200):
        unknown = auth_params(RegisteredClient(client_id, None))
        _assert_error_page(await client.get("/authorize?" + urlencode(unknown)))
    missing = auth_params(rp)
    missing.pop("client_id")
    _assert_error_page(await client.get("/authorize?" + urlencode(missing)))
    await Client.filter(id=rp.client_id).update(disabled=True)
    _assert_error_page(await client.get("/authorize?" + urlencode(auth_params(rp))))
    # A client that may not sign users in, even with a redirect URI on record.
    service = await register_client(name="Service", grant_types=["client_credentials"])
    _assert_error_page(await client.get("/authorize?" + urlencode(auth_params(service))))


async def test_id_token_alg_without_a_key_is_a_server_error(
    server: Server, client: httpx.AsyncClient
) -> None:
    """An ES256 client on a provider with RS256 keys only: told before anyone signs in."""
    rp = await register_client(id_token_alg="ES256")
    metadata = (await client.get("/.well-known/openid-configuration")).json()
    assert "ES256" not in metadata["id_token_signing_alg_values_supported"]
    params = auth_params(rp)
    response = await client.get("/authorize?" + urlencode(params))
    _assert_error_redirect(response, rp, server, "server_error", params["state"])


async def test_repeated_parameter_gets_an_error_page(
    server: Server, client: httpx.AsyncClient
) -> None:
    rp = await register_client()
    query = urlencode(auth_params(rp)) + "&state=second"
    _assert_error_page(await client.get("/authorize?" + query))


async def test_expired_flow_gets_an_error_page(server: Server, client: httpx.AsyncClient) -> None:
    for path in ("/login?flow=nope", "/consent?flow=nope", "/authorize/resume?flow=nope"):
        _assert_error_page(await client.get(path))
