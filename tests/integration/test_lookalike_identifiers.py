"""Look-alike and invisible identifiers are refused wherever an account is created: the JSON API
and the hosted registration page answer 422 `validation_failed` naming the field, and nothing is
written. A Cyrillic "a" or a zero-width space used to make a second account that reads like
ada@example.com. (The command line's `users add` is in tests/e2e/test_cli.py.)"""

from __future__ import annotations

import httpx
import pytest

from provider.storage.models import User
from tests.hosted import field_errors, get, post_form
from tests.oidc import Browser
from tests.support import PASSWORD, Server, assert_error, register, row_counts

LOOK_ALIKES = [
    ("\u0430da@example.com", "email", "scripts"),  # a Cyrillic a
    ("ad\u200ba@example.com", "email", "ZERO WIDTH SPACE"),
    ("ada@ex\u0430mple.com", "email", "scripts"),
    ("ada\u202e@example.com", "email", "RIGHT-TO-LEFT OVERRIDE"),
    ("ada@example.local", "email", "special-use"),
]


@pytest.mark.parametrize(("email", "field", "reason"), LOOK_ALIKES)
async def test_the_api_refuses_look_alike_emails(
    client: httpx.AsyncClient, email: str, field: str, reason: str
) -> None:
    await register(client)  # the real ada@example.com
    before = await row_counts()
    response = await client.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Not Ada"}
    )
    error = assert_error(response, 422, "validation_failed")
    assert set(error["details"]) == {field}
    assert any(reason in message for message in error["details"][field]), error
    assert await row_counts() == before


@pytest.mark.parametrize("username", ["\u0430da", "ad\u200ba", "ada\u202e"])
async def test_the_api_refuses_look_alike_usernames(
    client: httpx.AsyncClient, username: str
) -> None:
    before = await row_counts()
    response = await client.post(
        "/v1/auth/register",
        json={
            "email": "grace@example.com",
            "password": PASSWORD,
            "name": "G",
            "username": username,
        },
    )
    error = assert_error(response, 422, "validation_failed")
    assert set(error["details"]) == {"username"}
    assert await row_counts() == before


async def test_the_registration_page_refuses_look_alikes(server: Server) -> None:
    async with Browser.open(server.url) as browser:
        form = await get(browser, "/register")
        for email, _, reason in LOOK_ALIKES[:2]:
            refused = await post_form(
                browser, "/register", form, email=email, name="Not Ada", password=PASSWORD
            )
            assert refused.status_code == 422
            errors = field_errors(refused)
            assert set(errors) == {"email"}
            assert reason in errors["email"]
        username = await post_form(
            browser,
            "/register",
            form,
            email="grace@example.com",
            name="G",
            username="ad\u200ba",
            password=PASSWORD,
        )
        assert username.status_code == 422
        assert set(field_errors(username)) == {"username"}
    assert await User.all().count() == 0


async def test_one_script_per_part_is_accepted(client: httpx.AsyncClient) -> None:
    created = await register(client, email="\u043c\u0430\u0448\u0430@example.com")
    assert created["email"] == "\u043c\u0430\u0448\u0430@example.com"
