"""Two-factor authentication on the hosted pages: enrolment on /account/mfa, the code step of a
sign-in (/login/mfa), replays, lockout, backup codes, CSRF, and the ID token's amr and acr."""

from __future__ import annotations

from typing import Any

import httpx

from provider.storage.models import AuditEvent, BackupCode, OneTimeToken, Session, User
from tests.hosted import (
    alert_of,
    back_at_client,
    backup_codes_of,
    enrol_on_account_page,
    get,
    id_token_claims,
    is_mfa_page,
    post_form,
    secret_of,
    set_cookie_names,
    sign_in_for,
)
from tests.oidc import Browser, auth_params, hidden_fields, is_login_page, register_client
from tests.support import PASSWORD, Server, register
from tests.support import login as api_login
from tests.totp import current_step, enrol_totp, fresh_totp_code, totp_code

EMAIL = "ada@example.com"


async def _mfa_user(http: httpx.AsyncClient) -> tuple[dict[str, Any], str, list[str]]:
    """A user with TOTP on (enrolled through the JSON API): the user, the secret, backup codes."""
    user = await register(http)
    secret, codes = await enrol_totp(http, await api_login(http))
    return user, secret, codes


async def _code_page(browser: Browser, rp: Any, **extra: str) -> httpx.Response:
    """authorize → login with the right password → the code page of the flow."""
    page = await browser.authorize(auth_params(rp, **extra))
    assert is_login_page(page)
    response = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
    assert is_mfa_page(response), response.text[:800]
    return response


async def test_enrol_on_the_account_page_then_sign_in_asks_for_the_code(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    async with Browser.open(server.url) as browser:
        gate = await browser.http.get("/account/mfa")
        assert gate.status_code == 303
        assert gate.headers["location"] == "/login?next=%2Faccount%2Fmfa"
        page = await sign_in_for(browser, EMAIL, PASSWORD, "/account/mfa")
        assert page.status_code == 200
        assert 'id="mfa-off"' in page.text

        shown = await post_form(browser, "/account/mfa/start", page)
        assert shown.status_code == 200
        # The QR code is an inline image (CSP img-src allows data:), next to the secret itself.
        assert '<img src="data:image/svg+xml' in shown.text
        assert "img-src 'self' data:" in shown.headers["content-security-policy"]
        assert "<script" not in shown.text
        assert shown.headers["cache-control"] == "no-store"
        # Reloading shows the same pending secret; it does not start a new one.
        again = await get(browser, "/account/mfa")
        assert hidden_fields(again.text) == hidden_fields(shown.text)
        assert 'id="secret"' in again.text

        wrong = await post_form(browser, "/account/mfa/confirm", shown, code="000000")
        assert wrong.status_code == 400
        assert "incorrect" in alert_of(wrong)
        assert (await User.get(id=user["id"])).totp_enabled_at is None

        secret, codes = await _confirm(browser, shown)
        assert len(set(codes)) == 10
        status = await get(browser, "/account/mfa")
        assert 'id="mfa-on"' in status.text
        assert "10 of 10 backup codes" in status.text
        assert "data:image/svg+xml" not in status.text  # the secret is never shown again
    assert (await User.get(id=user["id"])).totp_enabled_at is not None

    rp = await register_client()
    async with Browser.open(server.url) as browser:
        sessions = await Session.all().count()
        page = await browser.authorize(auth_params(rp))
        code_page = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
        assert is_mfa_page(code_page)
        assert browser.pages[-1].startswith("/login/mfa?flow=")
        # The password alone made no session.
        assert await Session.all().count() == sessions
        assert "sid" not in browser.http.cookies
        assert "mfa" in browser.http.cookies

        wrong = await post_form(browser, "/login/mfa", code_page, code="123456")
        assert wrong.status_code == 401
        assert "incorrect" in alert_of(wrong)
        assert await Session.all().count() == sessions
        failed = await AuditEvent.get(event="user.login_failed", user_id=user["id"])
        assert failed.details == {"reason": "invalid_mfa_code"}

        code = await fresh_totp_code(secret, user["id"])
        query = await back_at_client(
            browser, await post_form(browser, "/login/mfa", wrong, code=code), rp
        )
        assert "mfa" not in browser.http.cookies  # the pending sign-in is spent
    claims = await id_token_claims(client, rp, query["code"])
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == "urn:provider:acr:mfa"
    session = await Session.get(id=claims["sid"])
    assert session.amr == ["pwd", "otp", "mfa"]
    # One login, written once, by the shared finish_login.
    logins = await AuditEvent.filter(event="user.login", session_id=session.id)
    assert [event.details for event in logins] == [
        {"method": "password", "amr": ["pwd", "otp", "mfa"]}
    ]
    assert await AuditEvent.filter(event="mfa.verified", user_id=user["id"]).count() == 1


async def _confirm(browser: Browser, shown: httpx.Response) -> tuple[str, list[str]]:
    secret = secret_of(shown.text)
    done = await post_form(
        browser, "/account/mfa/confirm", shown, code=totp_code(secret, current_step())
    )
    assert done.status_code == 200, done.text[:800]
    assert "shown only now" in done.text
    return secret, backup_codes_of(done.text)


async def test_a_code_is_accepted_once_and_a_backup_code_works(
    server: Server, client: httpx.AsyncClient
) -> None:
    user, secret, backup = await _mfa_user(client)
    rp = await register_client()
    code = await fresh_totp_code(secret, user["id"])
    async with Browser.open(server.url) as browser:
        first = await post_form(browser, "/login/mfa", await _code_page(browser, rp), code=code)
        assert "code" in await back_at_client(browser, first, rp)
    async with Browser.open(server.url) as browser:
        page = await _code_page(browser, rp)
        replay = await post_form(browser, "/login/mfa", page, code=code)
        assert replay.status_code == 401
        assert "already used" in alert_of(replay)
        with_backup = await post_form(browser, "/login/mfa", replay, code=backup[0].upper())
        query = await back_at_client(browser, with_backup, rp)
    claims = await id_token_claims(client, rp, query["code"])
    assert "otp" in claims["amr"]
    assert await BackupCode.filter(user_id=user["id"], used_at=None).count() == 9
    methods = (
        await AuditEvent.filter(event="mfa.verified")
        .order_by("id")
        .values_list("details", flat=True)
    )
    assert list(methods) == [{"method": "totp"}, {"method": "backup_code"}]


async def test_wrong_codes_lock_the_account(server: Server, client: httpx.AsyncClient) -> None:
    user, secret, _ = await _mfa_user(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await _code_page(browser, rp)
        for _ in range(5):  # PROVIDER_LOCKOUT_THRESHOLD's default
            page = await post_form(browser, "/login/mfa", page, code="000000")
            assert page.status_code == 401
        right = await post_form(
            browser, "/login/mfa", page, code=await fresh_totp_code(secret, user["id"])
        )
        assert right.status_code == 423
        assert "locked" in alert_of(right)
        assert right.headers["retry-after"].isdigit()
        assert "sid" not in browser.http.cookies
    assert (await User.get(id=user["id"])).locked_until is not None
    assert await AuditEvent.filter(event="user.locked", user_id=user["id"]).count() == 1


async def test_the_code_page_needs_a_pending_sign_in(
    server: Server, client: httpx.AsyncClient
) -> None:
    user, secret, _ = await _mfa_user(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await _code_page(browser, rp)
        flow = hidden_fields(page.text)["flow"]
        browser.http.cookies.delete("mfa")
        shown = await browser.http.get("/login/mfa", params={"flow": flow})
        assert is_login_page(shown)
        assert "expired" in alert_of(shown)
        code = await fresh_totp_code(secret, user["id"])
        posted = await browser.http.post(
            "/login/mfa", data={**hidden_fields(page.text), "code": code}
        )
        assert posted.status_code == 401
        assert is_login_page(posted)
        # A made-up challenge is no better than none.
        browser.http.cookies.set("mfa", "x" * 43)
        forged = await browser.http.post(
            "/login/mfa", data={**hidden_fields(page.text), "code": code}
        )
        assert forged.status_code == 401
        assert is_login_page(forged)
        assert "mfa" in set_cookie_names(forged)  # cleared
    assert await Session.filter(user_id=user["id"]).count() == 1  # the API's, from enrolment


async def test_the_challenge_is_bound_to_the_browser(
    server: Server, client: httpx.AsyncClient
) -> None:
    user, secret, _ = await _mfa_user(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await _code_page(browser, rp)
        stolen = browser.http.cookies["mfa"]
    async with Browser.open(server.url) as other:
        other.http.cookies.set("mfa", stolen)
        other.http.headers["user-agent"] = "another browser"
        fields = {**hidden_fields(page.text), "code": await fresh_totp_code(secret, user["id"])}
        other.http.cookies.set("csrf", browser.http.cookies.get("csrf") or "")
        response = await other.http.post("/login/mfa", data=fields)
        assert response.status_code == 401
        assert is_login_page(response)
    assert await OneTimeToken.filter(purpose="mfa_login", used_at=None).count() == 1


async def test_csrf_is_required_on_the_code_page(server: Server, client: httpx.AsyncClient) -> None:
    user, secret, _ = await _mfa_user(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        page = await _code_page(browser, rp)
        step_before = (await User.get(id=user["id"])).totp_last_step
        fields = {**hidden_fields(page.text), "code": await fresh_totp_code(secret, user["id"])}
        for csrf in (None, "0" * 64):
            data = {k: v for k, v in fields.items() if k != "csrf"}
            if csrf is not None:
                data["csrf"] = csrf
            response = await browser.http.post("/login/mfa", data=data)
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "csrf_failed"
        # The code was not spent and nobody signed in: it still works with the form's token.
        assert (await User.get(id=user["id"])).totp_last_step == step_before
        assert await AuditEvent.filter(event="mfa.verified").count() == 0
        assert await Session.filter(user_id=user["id"]).count() == 1  # the API's
        done = await browser.http.post("/login/mfa", data=fields)
        assert done.status_code == 303
    assert await Session.filter(user_id=user["id"]).count() == 2


async def test_sign_in_without_a_flow_asks_for_the_code_then_goes_to_next(
    server: Server, client: httpx.AsyncClient
) -> None:
    user, secret, _ = await _mfa_user(client)
    async with Browser.open(server.url) as browser:
        page = await sign_in_for(browser, EMAIL, PASSWORD, "/account")
        assert is_mfa_page(page)
        assert browser.pages[-1] == "/login/mfa?next=%2Faccount"
        assert hidden_fields(page.text)["next"] == "/account"
        done = await post_form(
            browser, "/login/mfa", page, code=await fresh_totp_code(secret, user["id"])
        )
        assert done.status_code == 200
        assert browser.pages[-1] == "/account"
        assert 'id="mfa-status">on<' in done.text
    session = await Session.filter(user_id=user["id"], cookie_hash__isnull=False).get()
    assert session.acr == "urn:provider:acr:mfa"


async def test_backup_codes_and_turning_it_off_on_the_account_page(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    async with Browser.open(server.url) as browser:
        await sign_in_for(browser, EMAIL, PASSWORD, "/account/mfa")
        secret, old_codes, _ = await enrol_on_account_page(browser)
        page = await get(browser, "/account/mfa")

        wrong = await post_form(
            browser,
            "/account/mfa/backup-codes",
            page,
            password="not the password",
            code=await fresh_totp_code(secret, user["id"]),
        )
        assert wrong.status_code == 403
        assert "password is incorrect" in alert_of(wrong)
        renewed = await post_form(
            browser,
            "/account/mfa/backup-codes",
            page,
            password=PASSWORD,
            code=await fresh_totp_code(secret, user["id"]),
        )
        assert renewed.status_code == 200
        new_codes = backup_codes_of(renewed.text)
        assert len(new_codes) == 10
        assert not set(new_codes) & set(old_codes)

        missing = await post_form(browser, "/account/mfa/disable", page, password=PASSWORD)
        assert missing.status_code == 400
        no_csrf = await browser.http.post(
            "/account/mfa/disable",
            data={"password": PASSWORD, "code": old_codes[0]},
        )
        assert no_csrf.status_code == 400
        old = await post_form(
            browser, "/account/mfa/disable", page, password=PASSWORD, code=old_codes[0]
        )
        assert old.status_code == 403  # the old backup codes died with the regeneration
        assert (await User.get(id=user["id"])).totp_enabled_at is not None

        off = await post_form(
            browser, "/account/mfa/disable", page, password=PASSWORD, code=new_codes[0]
        )
        assert off.status_code == 200
        assert browser.pages[-1] == "/account/mfa?done=disabled"
        assert "Two-factor authentication is off." in off.text
        assert 'id="mfa-off"' in off.text
    stored = await User.get(id=user["id"])
    assert stored.totp_enabled_at is None
    assert await BackupCode.filter(user_id=user["id"]).count() == 0


async def test_account_mfa_forms_need_csrf_and_a_session(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    async with Browser.open(server.url) as browser:
        signed_out = await browser.http.post("/account/mfa/start", data={"csrf": "x"})
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/login?next=%2Faccount%2Fmfa"
        page = await sign_in_for(browser, EMAIL, PASSWORD, "/account/mfa")
        response = await browser.http.post("/account/mfa/start", data={})
        assert response.status_code == 400
        assert (await User.get(id=user["id"])).totp_pending_secret is None
        shown = await post_form(browser, "/account/mfa/start", page)
        secret = secret_of(shown.text)
        forged = await browser.http.post(
            "/account/mfa/confirm",
            data={"csrf": "f" * 64, "code": totp_code(secret, current_step())},
        )
        assert forged.status_code == 400
    assert (await User.get(id=user["id"])).totp_enabled_at is None
