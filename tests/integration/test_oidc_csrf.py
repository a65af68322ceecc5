"""The hosted pages' defences: CSRF on every form, cookie attributes, CSP, and the same lockout,
rate limits and audit trail as the JSON API's login."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from provider.storage.models import AuditEvent, Consent, Session, User
from tests.oidc import (
    LOGOUT_URI,
    Browser,
    auth_params,
    csrf_of,
    flow_of,
    hidden_fields,
    is_consent_page,
    is_login_page,
    redirect_query,
    register_client,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, register

EMAIL = "ada@example.com"
BAD_TOKENS = [None, "", "0" * 64, "not-the-token"]


def _assert_csrf_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.json()["error"]["code"] == "csrf_failed"
    assert "location" not in response.headers
    assert not any(h.startswith("sid=") for h in response.headers.get_list("set-cookie"))


def _with_csrf(form: dict[str, str], token: str | None) -> dict[str, str]:
    form = {key: value for key, value in form.items() if key != "csrf"}
    if token is not None:
        form["csrf"] = token
    return form


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_login_form_needs_its_csrf_token(
    server: Server, client: httpx.AsyncClient, token: str | None
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        assert is_login_page(page)
        form = {"flow": flow_of(page.text), "identifier": EMAIL, "password": PASSWORD}
        response = await browser.http.post("/login", data=_with_csrf(form, token))
        _assert_csrf_refused(response)
        assert await Session.all().count() == 0
        assert await AuditEvent.filter(event__in=["user.login", "user.login_failed"]).count() == 0
        # The genuine form still works afterwards.
        response = await browser.submit_login(page, EMAIL, PASSWORD)
        assert is_consent_page(response)
    assert await Session.all().count() == 1


async def test_csrf_token_of_another_browser_is_refused(
    server: Server, client: httpx.AsyncClient
) -> None:
    """A token is only valid with the cookie it was derived from (signed double submit)."""
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as attacker, Browser.open(server.url) as victim:
        attacker_page = await attacker.authorize(auth_params(rp))
        victim_page = await victim.authorize(auth_params(rp))
        form = {
            "flow": flow_of(victim_page.text),
            "csrf": csrf_of(attacker_page.text),
            "identifier": EMAIL,
            "password": PASSWORD,
        }
        _assert_csrf_refused(await victim.http.post("/login", data=form))
        # Without any cookie at all.
        async with httpx.AsyncClient(base_url=server.url) as bare:
            _assert_csrf_refused(await bare.post("/login", data=form))
    assert await Session.all().count() == 0


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_consent_form_needs_its_csrf_token(
    server: Server, client: httpx.AsyncClient, token: str | None
) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        page = await browser.submit_login(page, EMAIL, PASSWORD)
        assert is_consent_page(page)
        form = {"flow": flow_of(page.text), "decision": "allow"}
        _assert_csrf_refused(await browser.http.post("/consent", data=_with_csrf(form, token)))
        assert await Consent.all().count() == 0
        assert await AuditEvent.filter(event="consent.granted").count() == 0
        response = await browser.submit_consent(page)
        assert "code" in redirect_query(response, rp)
    assert await Consent.all().count() == 1


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_logout_form_needs_its_csrf_token(
    server: Server, client: httpx.AsyncClient, token: str | None
) -> None:
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        tokens, _ = await sign_in_for_tokens(browser, rp, EMAIL, PASSWORD)
        query = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_URI}
        page = await browser.http.get("/logout?" + urlencode(query))
        form = {**hidden_fields(page.text), "decision": "logout"}
        _assert_csrf_refused(await browser.http.post("/logout", data=_with_csrf(form, token)))
        session = await Session.get(user_id=user["id"])
        assert session.revoked_at is None
        assert browser.http.cookies.get("sid")
        assert (await browser.authorize(auth_params(rp, prompt="none"))).status_code == 302
        assert await AuditEvent.filter(event="user.logout").count() == 0


async def test_session_cookie_attributes_on_http(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        csrf_cookies = [c for c in page.headers.get_list("set-cookie") if c.startswith("csrf=")]
        assert len(csrf_cookies) == 1
        response = await browser.http.post(
            "/login",
            data={
                "flow": flow_of(page.text),
                "csrf": csrf_of(page.text),
                "identifier": EMAIL,
                "password": PASSWORD,
            },
        )
        assert response.status_code == 303
        cookies = response.headers.get_list("set-cookie")
    session_cookies = [c for c in cookies if c.startswith("sid=")]
    assert len(session_cookies) == 1, cookies
    for cookie in (session_cookies[0], csrf_cookies[0]):
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        # An http issuer cannot use Secure cookies, hence no __Host- prefix either.
        assert "secure" not in attributes
        assert not any(a.startswith("domain=") for a in attributes)
    assert not any("__Host-" in cookie for cookie in cookies)


async def test_cookies_are_host_prefixed_and_secure_on_https(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(issuer="https://id.example")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        rp = await register_client()
        page = await http.get("/authorize?" + urlencode(auth_params(rp)))
        page = await http.get(page.headers["location"])
        assert is_login_page(page)
        csrf_cookie = page.headers["set-cookie"]
        assert csrf_cookie.startswith("__Host-csrf=")
        # httpx does not send a Secure cookie over plain http: send it by hand.
        value = csrf_cookie.split(";")[0]
        http.cookies.clear()
        response = await http.post(
            "/login",
            data={
                "flow": flow_of(page.text),
                "csrf": csrf_of(page.text),
                "identifier": EMAIL,
                "password": PASSWORD,
            },
            headers={"Cookie": value},
        )
        assert response.status_code == 303, response.text
        session_cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-sid=")
        )
    for cookie in (session_cookie, csrf_cookie):
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/", "secure"} <= attributes
        assert not any(a.startswith("domain=") for a in attributes)


async def test_hosted_pages_cannot_be_framed(server: Server, client: httpx.AsyncClient) -> None:
    await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        login = await browser.authorize(auth_params(rp))
        consent = await browser.submit_login(login, EMAIL, PASSWORD)
        await browser.submit_consent(consent)
        logout = await browser.http.get("/logout")
        error = await browser.http.get("/authorize?client_id=nope")
    for name, response in (
        ("login", login),
        ("consent", consent),
        ("logout", logout),
        ("error", error),
    ):
        assert response.headers["content-type"].startswith("text/html"), name
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, name
        assert "default-src 'none'" in csp, name
        assert response.headers["x-frame-options"] == "DENY", name
        assert response.headers["cache-control"] == "no-store", name


async def test_hosted_login_lockout_and_audit(server: Server, client: httpx.AsyncClient) -> None:
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        for attempt in range(5):
            response = await browser.submit_login(page, EMAIL, f"wrong password {attempt}")
            assert response.status_code == 401, response.status_code
            assert is_login_page(response)
            assert 'role="alert"' in response.text
            assert f'value="{EMAIL}"' in response.text  # the identifier is kept, not the password
            assert "wrong password" not in response.text
        stored = await User.get(id=user["id"])
        assert stored.locked_until is not None
        # Locked: even the right password is refused now, with 423 on the page.
        response = await browser.submit_login(page, EMAIL, PASSWORD)
        assert response.status_code == 423
        assert is_login_page(response)
        assert "locked" in response.text.lower()
    failures = await AuditEvent.filter(event="user.login_failed").order_by("id")
    assert len(failures) == 5
    assert all(str(event.user_id) == user["id"] for event in failures)
    assert all(event.outcome == "failure" for event in failures)
    assert await AuditEvent.filter(event="user.locked", user_id=user["id"]).count() == 1
    assert await Session.all().count() == 0
    assert await AuditEvent.filter(event="user.login").count() == 0


async def test_hosted_login_rate_limit(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(ratelimit_login_per_ip="3")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        statuses = []
        for attempt in range(4):
            response = await browser.submit_login(page, f"nobody{attempt}@example.com", "x" * 12)
            statuses.append(response.status_code)
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
