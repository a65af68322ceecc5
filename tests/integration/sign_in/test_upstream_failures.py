"""Every way an upstream sign-in can fail ends on the hosted error page with a way back to the
sign-in page, writes a `user.login_failed` row saying why, and leaves no account, link or
session behind. State, nonce and PKCE are each checked against tampering."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import redis.asyncio as redis

from provider.storage.models import (
    AuditEvent,
    FederatedIdentity,
    IdentityProvider,
    Session,
    User,
)
from tests.fake_upstream import Upstream, running_upstream
from tests.federation import add_upstream, start_upstream, through_upstream
from tests.hosted import alert_of, link_of
from tests.oidc import Browser
from tests.support import Server, free_port


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with running_upstream() as running:
        yield running


@pytest.fixture
async def idp_server(server_with) -> Server:  # type: ignore[no-untyped-def]
    server: Server = await server_with(outbound_allow_private="true")
    return server


async def _assert_refused(
    page: httpx.Response, status: int, reason: str, **details: Any
) -> dict[str, Any]:
    """The error page, its way back, nothing created, and the audit row with `reason`."""
    assert page.status_code == status, (page.status_code, page.text[:800])
    assert alert_of(page)
    assert link_of(page, "back-to-login").startswith("/login")
    assert await User.all().count() == 0
    assert await Session.all().count() == 0
    assert await FederatedIdentity.all().count() == 0
    row = await AuditEvent.filter(event="user.login_failed").order_by("-id").first()
    assert row is not None
    assert row.outcome == "failure"
    assert row.details["idp"] == "fake"
    assert row.details["reason"] == reason, row.details
    for name, value in details.items():
        assert row.details[name] == value, row.details
    return row.details


async def _approved(browser: Browser) -> str:
    """Start at our page, approve at the upstream: the callback URL, not yet opened."""
    started = await start_upstream(browser, next="/account")
    assert started.status_code == 303, started.text[:800]
    async with httpx.AsyncClient() as outside:
        approved = await outside.get(started.headers["location"])
    assert approved.status_code == 302
    return approved.headers["location"]


def _with(callback: str, **params: str) -> str:
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**query, **params})).geturl()


async def test_the_user_says_no_upstream(idp_server: Server, upstream: Upstream) -> None:
    await add_upstream(upstream, allow_signup=True)
    upstream.authorize_error = "access_denied"
    async with Browser.open(idp_server.url) as browser:
        page = await through_upstream(browser, await start_upstream(browser))
    await _assert_refused(page, 400, "upstream_error", upstream_error="access_denied")


async def test_a_tampered_state_is_refused(idp_server: Server, upstream: Upstream) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        callback = await _approved(browser)
        page = await browser.http.get(_with(callback, state="forged-state-value"))
    await _assert_refused(page, 400, "unknown_or_expired_state")


async def test_a_replayed_callback_is_refused(idp_server: Server, upstream: Upstream) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        callback = await _approved(browser)
        first = await browser.follow(await browser.http.get(callback))
        assert first.status_code == 200
        replay = await browser.http.get(callback)
    assert replay.status_code == 400
    assert link_of(replay, "back-to-login") == "/login"
    assert await Session.all().count() == 1
    row = await AuditEvent.get(event="user.login_failed")
    assert row.details == {"idp": "fake", "reason": "replayed_state"}


async def test_an_expired_sign_in_is_refused(
    idp_server: Server, upstream: Upstream, redis_url: str
) -> None:
    if not redis_url:
        pytest.skip("the pending sign-in is removed from the shared cache; CI always has Redis")
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        callback = await _approved(browser)
        # What the TTL does after ten minutes: the pending sign-in is gone from the cache.
        cache = redis.Redis.from_url(redis_url)
        for key in await cache.keys("idp:state:*"):
            if not key.endswith(b":claimed"):
                await cache.delete(key)
        await cache.aclose()
        page = await browser.http.get(callback)
    await _assert_refused(page, 400, "unknown_or_expired_state")


async def test_a_callback_in_another_browser_is_refused(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as victim, Browser.open(idp_server.url) as attacker:
        callback = await _approved(attacker)
        page = await victim.http.get(callback)
    await _assert_refused(page, 400, "other_browser")


async def test_a_code_from_another_sign_in_fails_pkce(
    idp_server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as attacker, Browser.open(idp_server.url) as victim:
        stolen = parse_qs(urlsplit(await _approved(attacker)).query)["code"][0]
        own = await _approved(victim)
        page = await victim.http.get(_with(own, code=stolen))
    await _assert_refused(page, 400, "upstream_error")
    # The upstream was sent the victim's verifier, which does not match the attacker's code.
    assert len(upstream.seen("/token")) == 1


@pytest.mark.parametrize(
    "tampering",
    [
        {"nonce": "another-sign-in"},
        {"iss": "https://evil.example"},
        {"aud": "another-client"},
        {"aud": ["our-client", "another-client"], "azp": "another-client"},
        {"exp": int(time.time()) - 3600},
        {"iat": int(time.time()) + 3600},
        {"sub": None},
        "other key",
    ],
    ids=["nonce", "issuer", "audience", "azp", "expired", "future", "no-subject", "signature"],
)
async def test_an_invalid_id_token_is_refused(
    idp_server: Server, upstream: Upstream, tampering: dict[str, Any] | str
) -> None:
    await add_upstream(upstream, allow_signup=True)
    if isinstance(tampering, dict):
        upstream.claims = tampering
    else:
        upstream.sign_with_other_key = True
    async with Browser.open(idp_server.url) as browser:
        page = await through_upstream(browser, await start_upstream(browser))
    await _assert_refused(page, 400, "invalid_id_token")


async def test_an_unreachable_upstream_is_refused(idp_server: Server, upstream: Upstream) -> None:
    await add_upstream(upstream, issuer=f"http://127.0.0.1:{free_port()}")
    async with Browser.open(idp_server.url) as browser:
        page = await start_upstream(browser)
    await _assert_refused(page, 502, "upstream_unavailable")


async def test_an_upstream_gone_before_the_token_exchange(idp_server: Server) -> None:
    async with Browser.open(idp_server.url) as browser:
        with running_upstream() as gone:
            await add_upstream(gone, allow_signup=True)
            callback = await _approved(browser)
        page = await browser.http.get(callback)
    await _assert_refused(page, 502, "upstream_unavailable")


async def test_a_slow_upstream_times_out(idp_server: Server, upstream: Upstream) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        callback = await _approved(browser)
        upstream.delay = 6  # past the outbound deadline of 5 s
        page = await browser.http.get(callback)
    await _assert_refused(page, 502, "upstream_unavailable")


async def test_an_oversized_answer_is_refused(idp_server: Server, upstream: Upstream) -> None:
    await add_upstream(upstream, allow_signup=True)
    async with Browser.open(idp_server.url) as browser:
        callback = await _approved(browser)
        upstream.oversized = True
        page = await browser.http.get(callback)
    await _assert_refused(page, 502, "upstream_unavailable")


async def test_plain_http_is_refused_unless_loopback_in_development(
    idp_server: Server, server: Server, upstream: Upstream
) -> None:
    await add_upstream(upstream, "fake", issuer="http://upstream.example")
    async with Browser.open(idp_server.url) as browser:
        page = await start_upstream(browser)
    await _assert_refused(page, 502, "upstream_unavailable")
    # Loopback over http, on a server that does not allow private targets (production).
    await IdentityProvider.filter(slug="fake").update(issuer=upstream.url)
    async with Browser.open(server.url) as browser:
        page = await start_upstream(browser)
    await _assert_refused(page, 502, "upstream_unavailable")
