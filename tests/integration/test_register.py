"""POST /v1/auth/register: normalised unique identities, password policy, Argon2id at rest."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provider.storage.models import AuditEvent, User
from tests.support import PASSWORD, Server, assert_error, login, register, row_counts


async def test_register_answers_201_with_the_public_user(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": "ada@example.com", "password": PASSWORD, "name": " Ada ", "username": "ada"},
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    user = response.json()["user"]
    assert set(user) == {
        "id",
        "email",
        "username",
        "name",
        "role",
        "email_verified",
        "created_at",
    }
    assert user["email"] == "ada@example.com"
    assert user["username"] == "ada"
    assert user["name"] == "Ada"
    assert user["role"] == "user"
    assert user["email_verified"] is False
    assert PASSWORD not in response.text
    row = await User.get(id=user["id"])
    assert row.email == "ada@example.com"
    assert row.deleted_at is None
    assert row.locked_until is None


async def test_the_password_is_stored_as_an_argon2id_hash(client: httpx.AsyncClient) -> None:
    user = await register(client)
    row = await User.get(id=user["id"])
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    # Salted: the same password gives another hash.
    other = await register(client, email="grace@example.com")
    assert (await User.get(id=other["id"])).password_hash != row.password_hash


async def test_the_email_is_normalised(client: httpx.AsyncClient) -> None:
    user = await register(client, email="  Ada.Lovelace@EXAMPLE.com ")
    assert user["email"] == "ada.lovelace@example.com"
    assert await User.filter(email="ada.lovelace@example.com").count() == 1
    # ... and the normal form is what a login matches.
    tokens = await login(client, "ADA.LOVELACE@example.COM")
    assert tokens["user"]["id"] == user["id"]


@pytest.mark.parametrize(
    "variant", ["ada@example.com", "ADA@EXAMPLE.COM", " ada@example.com\t", "Ada@Example.Com"]
)
async def test_an_email_is_taken_whatever_its_case_or_spacing(
    server_with: Any, variant: str
) -> None:
    """With PROVIDER_REGISTRATION_REVEALS_EXISTING (a private deployment): the explicit 409."""
    server: Server = await server_with(registration_reveals_existing="true")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await register(client, email="ada@example.com")
        before = await row_counts()
        response = await client.post(
            "/v1/auth/register", json={"email": variant, "password": PASSWORD, "name": "Impostor"}
        )
    assert_error(response, 409, "email_taken")
    assert await row_counts() == before


async def test_a_username_is_unique_ignoring_case(client: httpx.AsyncClient) -> None:
    await register(client, email="ada@example.com", username="countess")
    before = await row_counts()
    response = await client.post(
        "/v1/auth/register",
        json={
            "email": "other@example.com",
            "password": PASSWORD,
            "name": "Other",
            "username": "Countess",
        },
    )
    assert_error(response, 409, "username_taken")
    assert await row_counts() == before


async def test_concurrent_registrations_of_one_email_create_one_user(
    client: httpx.AsyncClient,
) -> None:
    import asyncio

    body = {"email": "race@example.com", "password": PASSWORD, "name": "Race"}
    responses = await asyncio.gather(
        *(client.post("/v1/auth/register", json=body) for _ in range(4))
    )
    # The three that lost the race are told what a new registration is told (no enumeration).
    assert [response.status_code for response in responses] == [201] * 4
    assert await User.filter(email="race@example.com").count() == 1
    assert await AuditEvent.filter(event="user.registered").count() == 1


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"password": "x7#kq9!mz"}, {"password": ["at least 10"]}),
        ({"password": "1234567890"}, {"password": ["too common"]}),
        ({"password": "QWERTYUIOP"}, {"password": ["too common"]}),
        ({"password": " Basketball "}, {"password": ["too common"]}),  # on the large list only
        ({"email": "ada.lovelace@example.com", "password": "Ada.Lovelace@example.com"},
         {"password": ["email address or username"]}),
        ({"username": "countess1815", "password": "countess1815"},
         {"password": ["email address or username"]}),
        ({"email": "not-an-email"}, {"email": ["valid email"]}),
        ({"email": "ada@example"}, {"email": ["valid email"]}),
        ({"username": "a b"}, {"username": ["3-64 characters"]}),
        ({"username": "_ada"}, {"username": ["3-64 characters"]}),
        ({"email": "nope", "password": "123456", "username": "x"},
         {"email": ["valid email"], "password": ["at least 10", "too common"],
          "username": ["3-64 characters"]}),
    ],
)  # fmt: skip
async def test_policy_violations_are_422_with_details_per_field(
    client: httpx.AsyncClient, body: dict[str, str], problems: dict[str, list[str]]
) -> None:
    before = await row_counts()
    payload = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada", **body}
    error = assert_error(
        await client.post("/v1/auth/register", json=payload), 422, "validation_failed"
    )
    assert set(error["details"]) == set(problems)
    for field, fragments in problems.items():
        messages = error["details"][field]
        assert len(messages) == len(fragments), messages
        for fragment in fragments:
            assert any(fragment in message for message in messages), messages
    assert PASSWORD not in str(error)
    assert await row_counts() == before


async def test_rehash_on_login_when_the_argon2_parameters_change(
    client: httpx.AsyncClient, server_with
) -> None:
    user = await register(client)
    original = (await User.get(id=user["id"])).password_hash
    assert ",t=1," in original or "$t=1," in original
    stronger: Server = await server_with(argon2_time_cost="2")
    async with httpx.AsyncClient(base_url=stronger.url, timeout=30) as http:
        tokens = await login(http)
        assert tokens["user"]["id"] == user["id"]
        upgraded = (await User.get(id=user["id"])).password_hash
        assert upgraded != original
        assert upgraded.startswith("$argon2id$")
        assert "t=2," in upgraded
        # The new hash still verifies, and a second login does not hash again.
        await login(http)
        assert (await User.get(id=user["id"])).password_hash == upgraded
