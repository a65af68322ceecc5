"""RP-Initiated Logout 1.0: confirmation, redirect with state, and what signing out ends."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from provider.storage.models import AuditEvent, RefreshToken, Session
from tests.oidc import (
    LOGOUT_URI,
    Browser,
    auth_params,
    csrf_of,
    hidden_fields,
    query_of,
    refresh,
    register_client,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, register

EMAIL = "ada@example.com"
OFFLINE = "openid profile offline_access"


def _assert_error_page(response: httpx.Response) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text


def _session_cookie_cleared(response: httpx.Response) -> bool:
    cleared = [
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith("sid=") and "max-age=0" in header.lower()
    ]
    return bool(cleared)


async def test_logout_with_hint_redirect_and_state(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope=OFFLINE)
        assert browser.http.cookies.get("sid")
        params = {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": LOGOUT_URI,
            "state": "bye-123",
        }
        page = await browser.http.get("/logout?" + urlencode(params))
        assert page.status_code == 200
        assert 'action="/logout"' in page.text
        assert csrf_of(page.text)
        assert "Example App" in page.text
        fields = hidden_fields(page.text)
        assert {key: fields[key] for key in params} == params
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert LOGOUT_URI in csp.split("form-action")[1].split(";")[0]
        # Showing the page changes nothing.
        assert (await Session.get(user_id=user["id"])).revoked_at is None

        response = await browser.http.post("/logout", data={**fields, "decision": "logout"})
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.split("?")[0] == LOGOUT_URI
        assert query_of(location) == {"state": "bye-123"}
        assert _session_cookie_cleared(response)
        assert not browser.http.cookies.get("sid")

        session = await Session.get(user_id=user["id"])
        assert session.revoked_at is not None
        assert session.revoked_reason == "logout"
        rows = await RefreshToken.filter(session_id=session.id)
        assert rows
        assert all(row.revoked_at is not None for row in rows)
        assert (await refresh(client, rp, tokens["refresh_token"])).status_code == 400
        event = await AuditEvent.get(event="user.logout")
        assert event.client_id == rp.client_id
        assert str(event.session_id) == str(session.id)
        assert await AuditEvent.filter(event="session.revoked").count() == 1

        # The browser is signed out for every client.
        again = auth_params(rp, prompt="none")
        response = await browser.authorize(again)
        assert query_of(response.headers["location"])["error"] == "login_required"


async def test_logout_with_client_id_instead_of_hint(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
        page = await browser.http.get(
            "/logout?"
            + urlencode({"client_id": rp.client_id, "post_logout_redirect_uri": LOGOUT_URI})
        )
        fields = hidden_fields(page.text)
        response = await browser.http.post("/logout", data={**fields, "decision": "logout"})
    assert response.status_code == 303
    assert response.headers["location"] == LOGOUT_URI
    assert (await Session.get(user_id=user["id"])).revoked_at is not None


async def test_stay_signed_in_keeps_the_session(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD, scope=OFFLINE)
        page = await browser.http.get(
            "/logout?"
            + urlencode(
                {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_URI}
            )
        )
        fields = hidden_fields(page.text)
        response = await browser.http.post("/logout", data={**fields, "decision": "stay"})
        assert response.status_code == 200
        assert "location" not in response.headers
        assert "Still signed in" in response.text
        assert not _session_cookie_cleared(response)
        session = await Session.get(user_id=user["id"])
        assert session.revoked_at is None
        assert await RefreshToken.filter(revoked_at__isnull=False).count() == 0
        assert (await refresh(client, rp, tokens["refresh_token"])).status_code == 200
        response = await browser.authorize(auth_params(rp, prompt="none", scope=OFFLINE))
        assert "code" in query_of(response.headers["location"])
    assert await AuditEvent.filter(event="user.logout").count() == 0


async def test_logout_without_a_session_redirects_at_once(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
    # A fresh browser without our cookie: nothing to confirm, straight back to the client.
    params = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": LOGOUT_URI,
        "state": "s1",
    }
    response = await client.get("/logout?" + urlencode(params))
    assert response.status_code == 303
    assert response.headers["location"] == LOGOUT_URI + "?state=s1"
    signed_out = await client.get("/logout")
    assert signed_out.status_code == 200
    assert "Signed out" in signed_out.text
    assert await AuditEvent.filter(event="user.logout").count() == 0


async def test_unregistered_post_logout_redirect_uri(
    server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    rp = await register_client()
    other = await register_client(
        name="Other App", post_logout_redirect_uris=["http://127.0.0.1:9/other-signed-out"]
    )
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
        hint = tokens["id_token"]
        attempts = [
            {"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"},
            {"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URI + "/evil"},
            {"id_token_hint": hint, "post_logout_redirect_uri": rp.redirect_uri},
            # Registered, but for another client than the one the hint names.
            {
                "id_token_hint": hint,
                "post_logout_redirect_uri": "http://127.0.0.1:9/other-signed-out",
            },
            {"client_id": other.client_id, "post_logout_redirect_uri": LOGOUT_URI},
            # Nobody to vouch for the address.
            {"post_logout_redirect_uri": LOGOUT_URI},
            {"client_id": "x" * 200, "post_logout_redirect_uri": LOGOUT_URI},
            # Two different clients named at once.
            {"id_token_hint": hint, "client_id": other.client_id},
            # A hint we did not sign.
            {"id_token_hint": "e30.e30.sig", "post_logout_redirect_uri": LOGOUT_URI},
        ]
        for params in attempts:
            _assert_error_page(await browser.http.get("/logout?" + urlencode(params)))
            _assert_error_page(await client.get("/logout?" + urlencode(params)))
            _assert_error_page(await browser.http.post("/logout", data=params))
    assert await Session.filter(revoked_at__isnull=False).count() == 0


async def test_an_access_token_is_not_an_id_token_hint(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Same keys sign both: the hint must be an ID token (typ JWT), not an at+jwt access token."""
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
        access = tokens["access_token"]
        for params in (
            {"id_token_hint": access, "post_logout_redirect_uri": LOGOUT_URI, "state": "s"},
            {"id_token_hint": access},
        ):
            _assert_error_page(await browser.http.get("/logout?" + urlencode(params)))
            _assert_error_page(await client.get("/logout?" + urlencode(params)))
        # The ID token itself still works as a hint.
        allowed = await client.get(
            "/logout?"
            + urlencode(
                {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_URI}
            )
        )
        assert allowed.status_code == 303, allowed.text[:300]
    assert await Session.filter(revoked_at__isnull=False).count() == 0
