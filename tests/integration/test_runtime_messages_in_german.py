"""Sentences the code builds at run time reach the pages in the reader's language: a field's
reasons in the console ("field: reasons"), a refusal with a value in it, and what an app may do
with a scope no one describes. Each message id is translated first, then filled in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.admin_support import account
from tests.hosted import get, post_form, sign_in_for
from tests.oidc import Browser, auth_params, is_consent_page, register_client
from tests.support import PASSWORD, Server, register


@pytest.fixture
async def german_admin(server: Server) -> AsyncIterator[Browser]:
    async with Browser.open(server.url) as browser:
        browser.http.headers["Accept-Language"] = "de"
        await account(browser.http, "root@example.com", "admin")
        await sign_in_for(browser, "root@example.com", PASSWORD, "/admin")
        yield browser


async def test_a_fields_reasons_on_the_console_are_german(german_admin: Browser) -> None:
    form = await get(german_admin, "/admin/resources")
    refused = await post_form(
        german_admin,
        "/admin/resources",
        form,
        identifier="https://api.example.com/orders#x",
        name="",
        scopes="openid",
        access_token_ttl="1",
    )
    assert refused.status_code == 422
    assert "identifier: muss eine absolute URI ohne Fragment sein" in refused.text
    assert "scopes: openid und offline_access gehören dem Anbieter" in refused.text
    # A reason of the core with values in it: its message id translated, then filled in.
    assert "access_token_ttl: muss zwischen 30 und " in refused.text
    assert "must be" not in refused.text


async def test_a_refusal_with_a_value_in_it_is_german(german_admin: Browser) -> None:
    form = await get(german_admin, "/admin/clients/new")
    refused = await post_form(
        german_admin,
        "/admin/clients/new",
        form,
        name="Bad",
        redirect_uris="http://example.com/callback",
        grant_authorization_code="on",
    )
    assert refused.status_code == 400
    assert "die Weiterleitungs-URI &#39;http://example.com/callback&#39; muss https" in refused.text
    too_long = await post_form(
        german_admin,
        "/admin/clients/new",
        form,
        name="n" * 201,
        redirect_uris="https://app.example/cb",
        grant_authorization_code="on",
    )
    assert "der Name darf höchstens 200 Zeichen lang sein" in too_long.text


async def test_a_scope_no_one_describes_is_worded_in_german(server: Server) -> None:
    rp = await register_client(scopes=["openid", "calendar"])
    async with Browser.open(server.url) as browser:
        await register(browser.http)
        browser.http.headers["Accept-Language"] = "de"
        page = await browser.authorize(auth_params(rp, scope="openid calendar"))
        consent = await browser.submit_login(page, "ada@example.com", PASSWORD)
        assert is_consent_page(consent)
        assert "calendar in Ihrem Namen verwenden" in consent.text
