"""Signing in with an upstream provider (a fake OIDC provider and a fake GitHub in this
process): the flow into an authorization request, every linking rule, and the account page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from provider.storage.models import AuditEvent, Client, FederatedIdentity, Session, User
from provider.storage.unit_of_work import utcnow
from tests.fake_upstream import Upstream, running_upstream
from tests.federation import add_upstream, audit_events, start_upstream, through_upstream
from tests.hosted import (
    alert_of,
    back_at_client,
    get,
    id_token_claims,
    is_mfa_page,
    link_of,
    post_form,
    sign_in_for,
)
from tests.mail import TEST_SECRET_KEY, Mailbox, MailServerFactory, token_from
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    hidden_fields,
    is_login_page,
    pkce_pair,
    register_client,
)
from tests.support import PASSWORD, Server, login, register
from tests.totp import enrol_totp, fresh_totp_code


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with running_upstream() as running:
        yield running


@pytest.fixture
async def idp_server(server_with) -> Server:  # type: ignore[no-untyped-def]
    """Outbound fetches to loopback allowed: the fake upstream runs on 127.0.0.1 over http."""
    server: Server = await server_with(outbound_allow_private="true")
    return server


async def _authorize(
    browser: Browser, **extra: str
) -> tuple[httpx.Response, str, RegisteredClient]:
    rp = await register_client()
    verifier, challenge = pkce_pair()
    params = auth_params(rp, code_challenge=challenge, code_challenge_method="S256", **extra)
    page = await browser.authorize(params)
    assert is_login_page(page), page.text[:800]
    return page, verifier, rp


async def test_a_new_user_signs_up_upstream_and_the_client_gets_fed_in_amr(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        page, verifier, rp = await _authorize(browser)
        assert "Continue with Fake Upstream" in page.text
        answer = await through_upstream(browser, await browser.http.get(link_of(page, "idp-fake")))
        query = await back_at_client(browser, answer, rp)
        claims = await id_token_claims(browser.http, rp, query["code"], verifier=verifier)
    assert claims["amr"] == ["fed"]
    user = await User.get(email="ada@example.com")
    assert claims["sub"] == str(user.id)
    assert user.password_hash == ""
    assert user.email_verified_at is not None
    assert user.name == "Ada Upstream"
    link = await FederatedIdentity.get(user_id=user.id)
    assert (link.provider_id, link.subject, link.email) == ("fake", "upstream-user-1", user.email)
    # state, nonce and PKCE S256 went upstream, and the verifier came with the code.
    sent = upstream.seen("/authorize")[0]
    assert sent["code_challenge_method"] == "S256"
    assert sent["state"]
    assert sent["nonce"]
    assert sent["code_challenge"]
    assert upstream.seen("/token")[0]["code_verifier"]
    events = await audit_events()
    assert ("user.registered", "success", {"idp": "fake", "email_verified": True}) in events
    assert ("identity.linked", "success", {"idp": "fake"}) in events
    login = next(details for event, _, details in events if event == "user.login")
    assert login == {"method": "federated", "amr": ["fed"], "idp": "fake"}


async def test_an_existing_link_signs_its_user_in(idp_server: Server, upstream: Upstream) -> None:
    await add_upstream(upstream, allow_signup=True)
    for _ in range(2):
        async with Browser.open(idp_server.url) as browser:
            done = await through_upstream(browser, await start_upstream(browser, next="/account"))
            assert done.status_code == 200, done.text[:800]
            assert "Fake Upstream" in done.text
            assert 'id="unlink-fake"' in done.text
    assert await User.all().count() == 1
    link = await FederatedIdentity.get(provider_id="fake")
    assert link.last_used_at is not None
    assert await Session.all().count() == 2
    assert await AuditEvent.filter(event="user.registered").count() == 1
    assert await AuditEvent.filter(event="user.login").count() == 2


async def test_a_verified_email_at_a_trusted_provider_links_the_local_account(
    idp_server: Server, upstream: Upstream, client: httpx.AsyncClient
) -> None:
    local = await register(client)
    await add_upstream(upstream, trust_email=True)
    async with Browser.open(idp_server.url) as browser:
        done = await through_upstream(browser, await start_upstream(browser, next="/account"))
    assert done.status_code == 200, done.text[:800]
    link = await FederatedIdentity.get(provider_id="fake")
    assert str(link.user_id) == local["id"]
    assert await User.all().count() == 1
    assert await AuditEvent.filter(event="identity.linked", user_id=local["id"]).count() == 1


@pytest.mark.parametrize(
    ("trusted", "verified"), [(False, True), (True, False)], ids=["untrusted", "unverified"]
)
async def test_a_matching_email_is_linked_only_after_the_password(
    idp_server: Server,
    upstream: Upstream,
    client: httpx.AsyncClient,
    trusted: bool,
    verified: bool,
) -> None:
    local = await register(client)
    upstream.user.email_verified = verified
    await add_upstream(upstream, trust_email=trusted, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        page, verifier, rp = await _authorize(browser)
        confirm = await through_upstream(browser, await browser.http.get(link_of(page, "idp-fake")))
        assert confirm.status_code == 200, confirm.text[:800]
        assert 'action="/login/idp/link"' in confirm.text
        assert await FederatedIdentity.all().count() == 0
        assert await Session.all().count() == 0
        wrong = await post_form(browser, "/login/idp/link", confirm, password="not the password")
        assert wrong.status_code == 401
        assert alert_of(wrong) == "The email, username or password is incorrect."
        assert await FederatedIdentity.all().count() == 0
        answer = await post_form(browser, "/login/idp/link", confirm, password=PASSWORD)
        query = await back_at_client(browser, answer, rp)
        claims = await id_token_claims(browser.http, rp, query["code"], verifier=verifier)
    assert claims["sub"] == local["id"]
    assert claims["amr"] == ["pwd", "fed"]
    assert await User.all().count() == 1
    assert str((await FederatedIdentity.get(provider_id="fake")).user_id) == local["id"]
    failed = await AuditEvent.get(event="user.login_failed")
    assert failed.details == {"reason": "invalid_credentials"}


async def test_no_account_and_sign_up_closed_is_refused_without_a_trace_but_the_audit(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=False)
    async with Browser.open(idp_server.url) as browser:
        page, _, _ = await _authorize(browser)
        refused = await through_upstream(browser, await browser.http.get(link_of(page, "idp-fake")))
    assert refused.status_code == 400
    assert "new accounts cannot be created" in alert_of(refused)
    assert link_of(refused, "back-to-login").startswith("/login?flow=")
    assert await User.all().count() == 0
    assert await Session.all().count() == 0
    assert await FederatedIdentity.all().count() == 0
    failed = await AuditEvent.get(event="user.login_failed")
    assert failed.outcome == "failure"
    assert failed.details == {"idp": "fake", "reason": "signup_disallowed"}


@pytest.mark.parametrize("email", ["\u0430da@example.com", "ad\u200ba@example.com"])
async def test_a_look_alike_upstream_email_opens_no_account(
    idp_server: Server, upstream: Upstream, client: httpx.AsyncClient, email: str
) -> None:
    """An upstream's address is held to the rules of a new local one: a Cyrillic "a" or a
    zero-width space would open a second account that reads like ada@example.com."""
    await register(client)
    upstream.user.email = email
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        page, _, _ = await _authorize(browser)
        refused = await through_upstream(browser, await browser.http.get(link_of(page, "idp-fake")))
    assert refused.status_code == 400
    assert "cannot be used for a new account" in alert_of(refused)
    assert await User.all().count() == 1
    assert await FederatedIdentity.all().count() == 0
    failed = await AuditEvent.get(event="user.login_failed")
    assert failed.details == {"idp": "fake", "reason": "signup_disallowed"}


async def test_a_user_with_totp_gives_the_code_after_the_upstream(
    idp_server: Server, upstream: Upstream, client: httpx.AsyncClient
) -> None:
    local = await register(client)
    secret, _ = await enrol_totp(client, await login(client))
    await add_upstream(upstream, trust_email=True)
    async with Browser.open(idp_server.url) as browser:
        page = await through_upstream(browser, await start_upstream(browser, next="/account"))
        assert is_mfa_page(page), page.text[:800]
        assert await Session.filter(cookie_hash__isnull=False).count() == 0
        assert await FederatedIdentity.all().count() == 1
        done = await post_form(
            browser, "/login/mfa", page, code=await fresh_totp_code(secret, local["id"])
        )
    assert done.status_code == 200, done.text[:800]
    session = await Session.get(cookie_hash__isnull=False)
    assert session.amr == ["fed", "otp", "mfa"]
    login_row = await AuditEvent.filter(event="user.login").order_by("-id").first()
    assert login_row is not None
    assert login_row.details == {"method": "federated", "amr": ["fed", "otp", "mfa"], "idp": "fake"}


async def test_github_unverified_primary_email_creates_an_unverified_account(
    idp_server: Server, upstream: Upstream
) -> None:
    upstream.user.subject, upstream.user.email_verified = "4242", False
    await add_upstream(upstream, "github", kind="oauth2", name="GitHub", allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        done = await through_upstream(
            browser, await start_upstream(browser, "github", next="/account")
        )
    assert done.status_code == 200, done.text[:800]
    user = await User.get(email="ada@example.com")
    assert user.email_verified_at is None
    link = await FederatedIdentity.get(user_id=user.id)
    assert (link.provider_id, link.subject) == ("github", "4242")
    # GitHub has no ID token: the token request had PKCE and the secret, /user the token.
    assert upstream.seen("/login/oauth/access_token")[0]["code_verifier"]
    assert upstream.seen("/user")
    assert upstream.seen("/user/emails")


async def test_github_unverified_email_never_links_an_existing_account(
    idp_server: Server, upstream: Upstream, client: httpx.AsyncClient
) -> None:
    await register(client)
    upstream.user.subject, upstream.user.email_verified = "4242", False
    await add_upstream(upstream, "github", kind="oauth2", trust_email=True, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        confirm = await through_upstream(
            browser, await start_upstream(browser, "github", next="/account")
        )
    assert 'action="/login/idp/link"' in confirm.text
    assert await FederatedIdentity.all().count() == 0
    assert await User.all().count() == 1


async def test_github_without_sign_up_refuses_an_unknown_user(
    idp_server: Server, upstream: Upstream
) -> None:
    upstream.user.subject = "4242"
    await add_upstream(upstream, "github", kind="oauth2", allow_signup=False)
    async with Browser.open(idp_server.url) as browser:
        refused = await through_upstream(browser, await start_upstream(browser, "github"))
    assert refused.status_code == 400
    assert await User.all().count() == 0
    assert (await AuditEvent.get(event="user.login_failed")).details["reason"] == (
        "signup_disallowed"
    )


async def test_the_account_page_links_and_unlinks_but_never_the_last_way_in(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    await add_upstream(upstream, "other", name="Other Upstream")
    async with Browser.open(idp_server.url) as browser:
        account = await through_upstream(browser, await start_upstream(browser, next="/account"))
        assert 'id="link-other"' in account.text
        refused = await post_form(browser, "/account/idp/fake/unlink", account)
        assert refused.status_code == 409
        assert "only way to sign in" in alert_of(refused)
        assert await FederatedIdentity.all().count() == 1
        upstream.user.subject = "upstream-user-2"
        linked = await through_upstream(
            browser, await browser.http.get(link_of(account, "link-other"))
        )
        assert "The provider is linked" in linked.text, linked.text[:800]
        assert await FederatedIdentity.all().count() == 2
        unlinked = await post_form(browser, "/account/idp/fake/unlink", linked)
        assert "no longer linked" in unlinked.text
    user = await User.get(email="ada@example.com")
    remaining = await FederatedIdentity.filter(user_id=user.id).values_list(
        "provider_id", flat=True
    )
    assert remaining == ["other"]
    unlinked_rows = await AuditEvent.filter(event="identity.unlinked").values_list(
        "details", flat=True
    )
    assert unlinked_rows == [{"idp": "fake"}]


async def test_a_user_with_a_password_may_remove_the_only_link(
    idp_server: Server, upstream: Upstream, client: httpx.AsyncClient
) -> None:
    await register(client)
    await add_upstream(upstream, trust_email=True)
    async with Browser.open(idp_server.url) as browser:
        account = await through_upstream(browser, await start_upstream(browser, next="/account"))
        done = await post_form(browser, "/account/idp/fake/unlink", account)
    assert "no longer linked" in done.text
    assert await FederatedIdentity.all().count() == 0


async def test_the_login_page_offers_only_providers_with_a_client_id(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream)
    await add_upstream(upstream, "unset", name="Not Configured", client_id="")
    await add_upstream(upstream, "off", name="Switched Off", enabled=False)
    async with Browser.open(idp_server.url) as browser:
        login = await get(browser, "/login")
        register_page = await get(browser, "/register")
        unset = await start_upstream(browser, "unset")
    for page in (login, register_page):
        assert "Continue with Fake Upstream" in page.text
        assert "Not Configured" not in page.text
        assert "Switched Off" not in page.text
    assert unset.status_code == 404


async def test_sign_in_for_password_users_is_unchanged(
    idp_server: Server, client: httpx.AsyncClient
) -> None:
    await register(client)
    async with Browser.open(idp_server.url) as browser:
        done = await sign_in_for(browser, "ada@example.com", PASSWORD)
    assert done.status_code == 200
    assert 'id="linked-providers"' not in done.text


async def test_a_user_without_a_password_sets_one_through_the_reset_flow(
    mail_server_with: MailServerFactory, mailbox: Mailbox, upstream: Upstream
) -> None:
    server = await mail_server_with(outbound_allow_private="true")
    await add_upstream(upstream, allow_signup=True, secret_key=TEST_SECRET_KEY)
    async with Browser.open(server.url) as browser:
        await through_upstream(browser, await start_upstream(browser, next="/account"))
    async with httpx.AsyncClient(base_url=server.url) as http:
        refused = await http.post(
            "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 401
        asked = await http.post("/v1/auth/password/forgot", json={"email": "ada@example.com"})
        assert asked.status_code == 202
        mail = await mailbox.wait_for("ada@example.com", "Reset your password")
        token = token_from(mail, server, "/password/reset")
        reset = await http.post(
            "/v1/auth/password/reset", json={"token": token, "password": "a brand new passphrase"}
        )
        assert reset.status_code == 200, reset.text
        tokens = await login(http, "ada@example.com", "a brand new passphrase")
    assert tokens["access_token"]
    assert (await FederatedIdentity.get(provider_id="fake")).subject == "upstream-user-1"


async def test_a_deleted_account_is_not_signed_in_through_its_link(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        await through_upstream(browser, await start_upstream(browser, next="/account"))
    await User.filter(email="ada@example.com").update(deleted_at=utcnow())
    async with Browser.open(idp_server.url) as browser:
        refused = await through_upstream(browser, await start_upstream(browser, next="/account"))
    assert refused.status_code == 400
    assert alert_of(refused) == "This account has been deleted."
    assert await Session.all().count() == 1
    failed = await AuditEvent.get(event="user.login_failed")
    assert failed.details == {"idp": "fake", "reason": "account_disabled"}
    assert str(failed.user_id) == str((await User.get(email="ada@example.com")).id)


async def test_a_locked_account_is_not_signed_in_through_its_link(
    idp_server: Server, upstream: Upstream, client: httpx.AsyncClient
) -> None:
    local = await register(client)
    await add_upstream(upstream, trust_email=True)
    await User.filter(id=local["id"]).update(locked_until=utcnow() + timedelta(hours=1))
    async with Browser.open(idp_server.url) as browser:
        refused = await through_upstream(browser, await start_upstream(browser, next="/account"))
    assert refused.status_code == 423
    assert "locked" in alert_of(refused)
    assert refused.headers["retry-after"]
    assert await Session.all().count() == 0
    assert await FederatedIdentity.all().count() == 0
    failed = await AuditEvent.get(event="user.login_failed")
    assert failed.details["reason"] == "account_locked"


async def test_changing_the_ways_in_needs_a_recent_sign_in_which_the_upstream_can_give(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    await add_upstream(upstream, "other", name="Other Upstream")
    async with Browser.open(idp_server.url) as browser:
        account = await through_upstream(browser, await start_upstream(browser, next="/account"))
        await Session.all().update(auth_time=utcnow() - timedelta(hours=1))
        stale = await browser.http.get(link_of(account, "link-other"))
        assert stale.status_code == 303
        assert stale.headers["location"] == "/login?next=%2Faccount%2Fidp%2Fother%2Flink&reauth=1"
        unlink = await browser.http.post(
            "/account/idp/fake/unlink", data=hidden_fields(account.text)
        )
        assert unlink.headers["location"] == "/login?next=%2Faccount&reauth=1"
        confirm = await browser.follow(stale)
        assert "Confirm it" in confirm.text
        # No password to type: the upstream confirms it is them, then the link goes on.
        again = await through_upstream(
            browser, await browser.http.get(link_of(confirm, "idp-fake"))
        )
        # Signed in again, the browser is back at /account/idp/other/link: off to link it.
        upstream.user.subject = "upstream-user-2"
        linked = await through_upstream(browser, again)
    assert "The provider is linked" in linked.text, linked.text[:800]
    assert await FederatedIdentity.all().count() == 2
    assert await Session.all().count() == 1


async def test_the_upstreams_mfa_counts_for_a_client_that_requires_it(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    upstream.claims = {"amr": ["pwd", "mfa"]}
    async with Browser.open(idp_server.url) as browser:
        page, verifier, rp = await _authorize(browser)
        await Client.filter(id=rp.client_id).update(require_mfa=True)
        answer = await through_upstream(browser, await browser.http.get(link_of(page, "idp-fake")))
        query = await back_at_client(browser, answer, rp)
        claims = await id_token_claims(browser.http, rp, query["code"], verifier=verifier)
    assert claims["amr"] == ["fed", "mfa"]
    assert claims["acr"] == "urn:provider:acr:mfa"


async def test_without_the_upstreams_mfa_such_a_client_asks_for_a_second_factor(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        page, _, rp = await _authorize(browser)
        await Client.filter(id=rp.client_id).update(require_mfa=True)
        answer = await through_upstream(browser, await browser.http.get(link_of(page, "idp-fake")))
    assert answer.status_code == 403
    assert "/account/mfa" in answer.text
