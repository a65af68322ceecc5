"""What a visitor meets first: the landing page at /, a 404 in the shape the caller reads, and
HEAD wherever GET answers."""

from __future__ import annotations

import re

import httpx

from provider.app import create_app
from provider.config import Settings
from tests.admin_support import account
from tests.hosted import sign_in_for
from tests.oidc import Browser, csrf_of, sign_out
from tests.support import PASSWORD, Server

_PARAM = re.compile(r"<[^>]+>")


def _get_routes() -> list[str]:
    """Every GET path in the app's route table, parameters filled in: a new route is covered
    without editing this test."""
    app = create_app(Settings(), name="head_routes")
    paths = sorted(
        {
            "/" + _PARAM.sub("00000000-0000-0000-0000-000000000000", route.path)
            for route in app.router.routes
            if "GET" in route.methods
        }
    )
    assert len(paths) >= 40, paths
    return paths


GET_ROUTES = _get_routes()


async def test_the_landing_page_offers_sign_in_then_the_account(server: Server) -> None:
    async with Browser.open(server.url) as browser:
        anonymous = await browser.http.get("/")
        assert anonymous.status_code == 200
        assert anonymous.headers["content-type"].startswith("text/html")
        assert 'href="/login?next=%2Faccount"' in anonymous.text
        assert 'href="/register"' in anonymous.text
        assert 'href="/account"' not in anonymous.text

        await account(browser.http, "ada@example.com")
        await sign_in_for(browser, "ada@example.com", PASSWORD, "/account")
        signed_in = await browser.http.get("/")
        assert signed_in.status_code == 200
        assert 'href="/account"' in signed_in.text
        assert "Signed in as" in signed_in.text
        # The console link is for staff only.
        assert "/admin" not in signed_in.text


async def test_a_browser_gets_an_html_404_and_an_api_client_the_json_envelope(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no/such/page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page.text
    assert 'href="/"' in page.text

    for accept in ("application/json", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        api = await client.get("/no/such/page", headers=headers)
        assert api.status_code == 404
        assert api.headers["content-type"] == "application/json"
        error = api.json()["error"]
        assert error["code"] == "not_found"
        assert error["request_id"] == api.headers["x-request-id"]


async def test_head_answers_on_every_get_route_like_get_without_a_body(
    client: httpx.AsyncClient,
) -> None:
    for path in GET_ROUTES:
        got = await client.get(path)
        head = await client.head(path)
        assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path


async def test_the_signed_in_and_signed_out_pages_lead_somewhere(server: Server) -> None:
    async with Browser.open(server.url) as browser:
        await account(browser.http, "ada@example.com")
        login_page = await browser.http.get("/login")
        signed_in = await browser.http.post(
            "/login",
            data={
                "csrf": csrf_of(login_page.text),
                "identifier": "ada@example.com",
                "password": PASSWORD,
            },
        )
        assert signed_in.status_code == 200
        assert "You are signed in" in signed_in.text
        assert 'href="/account"' in signed_in.text

        signed_out = await sign_out(browser)
        assert signed_out.status_code == 200
        assert "Signed out" in signed_out.text
        assert 'href="/login?next=%2Faccount"' in signed_out.text
