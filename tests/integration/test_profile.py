"""Profile editing: PATCH /v1/auth/me, the /account/profile form, and the claims apps then read
through userinfo and the ID token (exactly those of the granted scopes)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, User
from tests.hosted import field_errors, get, post_form, sign_in_for
from tests.oidc import Browser, decode_jwt, key_set, register_client, sign_in_for_tokens
from tests.support import PASSWORD, Server, assert_error, bearer, login, register

EMAIL = "ada@example.com"
FULL_PROFILE: dict[str, Any] = {
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "username": "countess",
    "locale": "en-gb",
    "zoneinfo": "Europe/London",
    "picture": "https://images.example.com/ada.png",
    "phone_number": "+44 20 7946 0958",
    "address": {"street_address": "12 St James's Square", "locality": "London", "country": "UK"},
}
PROFILE_COLUMNS = (
    "name",
    "given_name",
    "family_name",
    "username",
    "locale",
    "zoneinfo",
    "picture",
    "phone_number",
    "address",
)


async def _stored(user_id: str) -> dict[str, Any]:
    user = await User.get(id=user_id)
    return {column: getattr(user, column) for column in (*PROFILE_COLUMNS, "updated_at")}


async def _patch(client: httpx.AsyncClient, tokens: dict[str, Any], body: Any) -> httpx.Response:
    return await client.patch("/v1/auth/me", json=body, headers=bearer(tokens))


async def test_patch_me_sets_validated_claims_and_moves_updated_at(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    tokens = await login(client)
    before = await _stored(user["id"])
    response = await _patch(client, tokens, FULL_PROFILE)
    assert response.status_code == 200, response.text
    profile = response.json()["profile"]
    assert profile["locale"] == "en-GB"
    assert profile["phone_number"] == "+442079460958"
    assert response.json()["user"]["username"] == "countess"
    stored = await _stored(user["id"])
    assert stored == {
        **FULL_PROFILE,
        "locale": "en-GB",
        "phone_number": "+442079460958",
        "updated_at": stored["updated_at"],
    }
    assert stored["updated_at"] > before["updated_at"]
    audit = await AuditEvent.get(event="user.profile_updated")
    assert str(audit.user_id) == user["id"]
    assert audit.details == {"fields": sorted(PROFILE_COLUMNS)}
    me = await client.get("/v1/auth/me", headers=bearer(tokens))
    assert me.json()["profile"] == profile


async def test_patch_me_changes_only_the_fields_sent_and_null_clears(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    tokens = await login(client)
    assert (await _patch(client, tokens, FULL_PROFILE)).status_code == 200
    response = await _patch(client, tokens, {"phone_number": None, "address": None})
    assert response.status_code == 200, response.text
    stored = await _stored(user["id"])
    assert stored["phone_number"] is None
    assert stored["address"] is None
    assert stored["given_name"] == "Ada"
    assert stored["zoneinfo"] == "Europe/London"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone_number": "020 7946 0958"}, "phone_number"),
        ({"locale": "english please"}, "locale"),
        ({"zoneinfo": "Europe/Atlantis"}, "zoneinfo"),
        ({"picture": "http://images.example.com/ada.png"}, "picture"),
        ({"picture": "javascript:alert(1)"}, "picture"),
        ({"username": "a"}, "username"),
        ({"name": "Ada\u202e"}, "name"),
        ({"address": {"locality": "\x07"}}, "address"),
    ],
)
async def test_bad_profile_values_are_refused_and_nothing_changes(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    user = await register(client)
    tokens = await login(client)
    assert (await _patch(client, tokens, FULL_PROFILE)).status_code == 200
    before = await _stored(user["id"])
    response = await _patch(client, tokens, {**body, "given_name": "Changed"})
    error = assert_error(response, 422, "validation_failed")
    assert set(error["details"]) == {field}
    assert await _stored(user["id"]) == before
    assert await AuditEvent.filter(event="user.profile_updated").count() == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"nickname": "ada"}, 400),
        ({"phone_number": 441234567}, 400),
        ({"address": "12 St James's Square"}, 400),
        ({"address": {"planet": "Earth"}}, 400),
        ([], 400),
    ],
)
async def test_unknown_fields_and_wrong_types_are_refused(
    client: httpx.AsyncClient, body: Any, status: int
) -> None:
    user = await register(client)
    tokens = await login(client)
    before = await _stored(user["id"])
    response = await _patch(client, tokens, body)
    assert_error(response, status)
    assert await _stored(user["id"]) == before


async def test_a_taken_username_is_refused(client: httpx.AsyncClient) -> None:
    await register(client, email="grace@example.com", username="grace")
    user = await register(client)
    tokens = await login(client)
    before = await _stored(user["id"])
    response = await _patch(client, tokens, {"username": "GRACE", "given_name": "Ada"})
    assert_error(response, 409, "username_taken")
    assert await _stored(user["id"]) == before


async def test_patch_me_needs_a_session(client: httpx.AsyncClient) -> None:
    response = await client.patch("/v1/auth/me", json={"name": "Mallory"})
    assert_error(response, 401, "unauthorized")


async def test_the_profile_page_edits_the_same_fields(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        form = await get(browser, "/account/profile")
        assert form.status_code == 200
        assert 'id="profile-form"' in form.text
        refused = await post_form(
            browser,
            "/account/profile",
            form,
            name="Ada Lovelace",
            phone_number="12345",
            zoneinfo="Nowhere/Land",
        )
        assert refused.status_code == 422
        assert set(field_errors(refused)) == {"phone_number", "zoneinfo"}
        assert 'value="Nowhere/Land"' in refused.text
        assert (await _stored(user["id"]))["name"] == "Ada"

        saved = await post_form(
            browser,
            "/account/profile",
            form,
            name="Ada Lovelace",
            given_name="Ada",
            family_name="Lovelace",
            locale="fr-ca",
            zoneinfo="America/Montreal",
            picture="https://images.example.com/ada.png",
            phone_number="+1 514 555 0100",
            address_locality="Montréal",
            address_country="Canada",
        )
        assert saved.status_code == 200
        assert browser.pages[-1] == "/account/profile?done=saved"
        # The profile's new locale (fr-CA) is the language of the page from now on.
        assert "Votre profil est enregistré." in saved.text
        assert 'value="+15145550100"' in saved.text
    stored = await _stored(user["id"])
    assert stored["locale"] == "fr-CA"
    assert stored["phone_number"] == "+15145550100"
    assert stored["address"] == {"locality": "Montréal", "country": "Canada"}
    assert stored["username"] is None


async def test_claims_are_exactly_those_of_the_granted_scopes(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    tokens = await login(client)
    assert (await _patch(client, tokens, FULL_PROFILE)).status_code == 200
    rp = await register_client(
        scopes=["openid", "profile", "email", "phone", "address", "roles", "offline_access"]
    )
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(
            browser, rp, EMAIL, PASSWORD, scope="openid profile email phone address roles"
        )
    userinfo = (await client.get("/userinfo", headers=bearer(body["access_token"]))).json()
    _, id_claims = decode_jwt(body["id_token"], await key_set(client))
    profile_claims = {
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "preferred_username": "countess",
        "locale": "en-GB",
        "zoneinfo": "Europe/London",
        "picture": "https://images.example.com/ada.png",
    }
    expected = {
        "sub": userinfo["sub"],
        **profile_claims,
        "updated_at": userinfo["updated_at"],
        "email": EMAIL,
        "email_verified": False,
        "phone_number": "+442079460958",
        "phone_number_verified": False,
        "address": FULL_PROFILE["address"],
        "roles": [],
    }
    assert userinfo == expected
    assert {key: id_claims[key] for key in expected} == expected

    async with Browser.open(server.url) as browser:
        narrow, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope="openid phone")
    claims = (await client.get("/userinfo", headers=bearer(narrow["access_token"]))).json()
    assert claims == {
        "sub": userinfo["sub"],
        "phone_number": "+442079460958",
        "phone_number_verified": False,
    }


async def test_phone_and_address_are_left_out_until_set(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        body, _ = await sign_in_for_tokens(
            browser, rp, EMAIL, PASSWORD, scope="openid profile phone address"
        )
    claims = (await client.get("/userinfo", headers=bearer(body["access_token"]))).json()
    assert set(claims) == {"sub", "name", "updated_at"}
    _, id_claims = decode_jwt(body["id_token"], await key_set(client))
    assert not {"phone_number", "address", "given_name", "locale"} & set(id_claims)
