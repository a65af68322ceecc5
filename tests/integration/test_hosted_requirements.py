"""What a client may require of a sign-in: two factors (Client.require_mfa, or acr_values
urn:provider:acr:mfa) and a verified email (Client.require_verified_email), with step-up of a
password-only session, a page to enrol or verify, and prompt=none answered with an error."""

from __future__ import annotations

from typing import Any

import httpx

from provider.storage.models import AuthorizationCode, Client, OneTimeToken, Session, User
from tests.hosted import (
    back_at_client,
    enrol_on_account_page,
    get,
    id_token_claims,
    is_mfa_page,
    link_of,
    notice_links,
    post_form,
)
from tests.mail import Mailbox, token_from
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    is_login_page,
    redirect_query,
    register_client,
)
from tests.support import PASSWORD, Server, register
from tests.support import login as api_login
from tests.totp import enrol_totp, fresh_totp_code

EMAIL = "ada@example.com"
ACR_MFA = "urn:provider:acr:mfa"


async def _strict_client(**requirements: bool) -> RegisteredClient:
    rp = await register_client(name="Strict App")
    await Client.filter(id=rp.client_id).update(**requirements)
    return rp


async def _password_session(browser: Browser, rp: RegisteredClient) -> dict[str, Any]:
    """Sign in with the password alone in a flow of `rp` (which asks for nothing more)."""
    page = await browser.authorize(auth_params(rp))
    assert is_login_page(page)
    response = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
    query = await back_at_client(browser, response, rp)
    browser.pages.clear()
    return query


def _assert_interaction_required(
    response: httpx.Response, rp: RegisteredClient, server: Server, params: dict[str, str]
) -> None:
    query = redirect_query(response, rp)
    assert query["error"] == "interaction_required", query
    assert query["state"] == params["state"]
    assert query["iss"] == server.url
    assert "code" not in query


async def test_discovery_names_the_acr_values(server: Server, client: httpx.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/openid-configuration")).json()
    assert metadata["acr_values_supported"] == ["1", ACR_MFA]


async def test_require_mfa_without_totp_asks_to_enrol_then_steps_up(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    rp = await _strict_client(require_mfa=True)
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        enrol = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
        # No tokens for a password alone: a page that says how to turn two factors on.
        assert enrol.status_code == 403
        assert "Two-factor authentication required" in enrol.text
        assert "Strict App" in enrol.text
        assert await AuthorizationCode.all().count() == 0
        session = await Session.get(user_id=user["id"], cookie_hash__isnull=False)
        assert session.amr == ["pwd"]
        resume = link_of(enrol, "continue")
        assert resume.startswith("/authorize/resume?flow=")
        enrol_url = link_of(enrol, "enrol")
        assert enrol_url.startswith("/account/mfa?next=%2Fauthorize%2Fresume%3Fflow%3D")

        # Coming back without enrolling shows the same page again.
        again = await get(browser, resume)
        assert again.status_code == 403
        assert "Two-factor authentication required" in again.text

        secret, _, codes_page = await enrol_on_account_page(browser, enrol_url)
        assert link_of(codes_page, "continue") == resume
        browser.pages.clear()
        step_up = await get(browser, resume)
        assert is_mfa_page(step_up), step_up.text[:800]
        assert browser.pages[-1].startswith("/login/mfa?flow=")
        done = await post_form(
            browser, "/login/mfa", step_up, code=await fresh_totp_code(secret, user["id"])
        )
        query = await back_at_client(browser, done, rp)
    claims = await id_token_claims(client, rp, query["code"])
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == ACR_MFA
    # The same session, stepped up; not a second one.
    assert claims["sid"] == str(session.id)
    assert await Session.filter(user_id=user["id"], cookie_hash__isnull=False).count() == 1


async def test_acr_values_mfa_steps_up_a_password_session(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    rp = await register_client()
    async with Browser.open(server.url) as browser:
        # Codes are redeemed at once: the ID token tells how the session is authenticated then.
        first = await id_token_claims(client, rp, (await _password_session(browser, rp))["code"])
        assert first["amr"] == ["pwd"]
        assert first["acr"] == "1"
        secret, _ = await enrol_totp(client, await api_login(client))
        # Without acr_values the password session still signs in (single sign-on).
        plain = redirect_query(await browser.authorize(auth_params(rp)), rp)
        assert browser.pages == []
        assert (await id_token_claims(client, rp, plain["code"]))["amr"] == ["pwd"]

        step_up = await browser.authorize(auth_params(rp, acr_values=f"{ACR_MFA} 1"))
        assert is_mfa_page(step_up)
        done = await post_form(
            browser, "/login/mfa", step_up, code=await fresh_totp_code(secret, user["id"])
        )
        claims = await id_token_claims(
            client, rp, (await back_at_client(browser, done, rp))["code"]
        )
        assert claims["acr"] == ACR_MFA
        assert "otp" in claims["amr"]
        assert claims["sid"] == first["sid"]
        assert claims["auth_time"] >= first["auth_time"]

        browser.pages.clear()
        # Now the session has two factors: no question asked.
        after = redirect_query(await browser.authorize(auth_params(rp, acr_values=ACR_MFA)), rp)
        assert browser.pages == []
    assert (await id_token_claims(client, rp, after["code"]))["acr"] == ACR_MFA


async def test_prompt_none_cannot_step_up(server: Server, client: httpx.AsyncClient) -> None:
    """OIDC Core §3.1.2.6: interaction_required when the needed page cannot be shown."""
    user = await register(client)
    rp = await register_client()
    strict = await _strict_client(require_mfa=True)
    async with Browser.open(server.url) as browser:
        await _password_session(browser, rp)
        codes_before = await AuthorizationCode.all().count()
        # A user without TOTP, a client that requires two factors.
        params = auth_params(strict, prompt="none")
        _assert_interaction_required(await browser.authorize(params), strict, server, params)
        # A user with TOTP and acr_values asking for two factors: still no page may be shown.
        await enrol_totp(client, await api_login(client))
        params = auth_params(rp, prompt="none", acr_values=ACR_MFA)
        _assert_interaction_required(await browser.authorize(params), rp, server, params)
        assert browser.pages == []
        assert await AuthorizationCode.all().count() == codes_before
    session = await Session.get(user_id=user["id"], cookie_hash__isnull=False)
    assert session.amr == ["pwd"]


async def test_a_two_factor_session_meets_require_mfa_without_asking_again(
    server: Server, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    secret, _ = await enrol_totp(client, await api_login(client))
    rp = await _strict_client(require_mfa=True)
    async with Browser.open(server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        code_page = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
        assert is_mfa_page(code_page)
        done = await post_form(
            browser, "/login/mfa", code_page, code=await fresh_totp_code(secret, user["id"])
        )
        await back_at_client(browser, done, rp)
        browser.pages.clear()
        params = auth_params(rp, prompt="none")
        query = redirect_query(await browser.authorize(params), rp)
        assert browser.pages == []
    assert "code" in query


async def test_require_verified_email_shows_the_verify_page_until_it_is_verified(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user = await register(http)
    await mailbox.wait_for(EMAIL, "Verify")
    rp = await _strict_client(require_verified_email=True)
    async with Browser.open(mail_server.url) as browser:
        page = await browser.authorize(auth_params(rp))
        verify = await post_form(browser, "/login", page, identifier=EMAIL, password=PASSWORD)
        assert verify.status_code == 403
        assert "Verify your email address" in verify.text
        assert EMAIL in verify.text
        assert 'action="/email/resend"' in verify.text
        assert await AuthorizationCode.all().count() == 0
        resume = link_of(verify, "continue")

        params = auth_params(rp, prompt="none")
        _assert_interaction_required(await browser.authorize(params), rp, mail_server, params)

        sent = await post_form(browser, "/email/resend", verify)
        assert sent.status_code == 200
        assert "Check your mail" in sent.text
        assert notice_links(sent) == {"Continue": resume}
        messages = await mailbox.wait_for_all(EMAIL, 2)
        token = token_from(messages[1], mail_server, "/email/verify")

        assert (await get(browser, resume)).status_code == 403  # not verified yet
        confirm = await get(browser, "/email/verify", token=token)
        assert confirm.status_code == 200
        assert 'action="/email/verify"' in confirm.text
        verified = await post_form(browser, "/email/verify", confirm)
        assert verified.status_code == 200
        assert "verified" in verified.text

        back = await get(browser, resume)
        query = await back_at_client(browser, back, rp)
    assert "code" in query
    assert (await User.get(id=user["id"])).email_verified_at is not None
    assert await OneTimeToken.filter(purpose="verify_email", used_at=None).count() == 0
