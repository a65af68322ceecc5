"""Sign in with an upstream provider in a real browser.

A second instance of this provider (its own SQLite database, on `localhost` so its cookies are
not ours on 127.0.0.1) is the upstream OpenID Provider: a relying party asks us, the user clicks
"Continue with Upstream", signs in and allows there, comes back, allows here, and the relying
party's ID token says `fed`. Then the same with a GitHub-style OAuth2 provider, a local fake of
GitHub's documented endpoints (tests/fake_upstream.py), whose user's primary email is unverified.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.async_api import Page

from provider.config import DEV_SECRET_KEY
from provider.crypto.sealing import seal
from provider.federation.providers import SEALING_PURPOSE
from provider.storage.models import AuditEvent, FederatedIdentity, IdentityProvider, User
from tests.e2e.relying_party import Catcher, fetch_json, oauth_client, sign_in_on_page
from tests.fake_upstream import Upstream, running_upstream
from tests.federation import add_upstream
from tests.oidc import query_of, register_client
from tests.support import PASSWORD, ROOT, Server, fast_env, free_port, start_server

UPSTREAM_USER = "grace@upstream.example"


async def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "provider",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


@pytest.fixture
async def idp_server(server_with) -> Server:  # type: ignore[no-untyped-def]
    server: Server = await server_with(outbound_allow_private="true")
    return server


@pytest.fixture
async def upstream_provider(
    idp_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Server, str, str]]:
    """A second provider on localhost with a user, and a client for us: (server, id, secret)."""
    workdir = tmp_path_factory.mktemp("upstream")
    port = free_port()
    env = fast_env(f"sqlite://{workdir / 'upstream.sqlite3'}", "", workdir / "keys")
    env["PROVIDER_ISSUER"] = f"http://localhost:{port}"
    server = await asyncio.to_thread(start_server, env, workdir, port)
    try:
        cli_env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
        cli_env |= {**env, "PYTHONPATH": str(ROOT)}
        await _cli(
            cli_env,
            workdir,
            "users",
            "add",
            "--email",
            UPSTREAM_USER,
            "--password",
            PASSWORD,
            "--name",
            "Grace Upstream",
            "--verified",
        )
        registered = json.loads(
            await _cli(
                cli_env,
                workdir,
                "clients",
                "add",
                "--name",
                "Downstream Provider",
                "--redirect-uri",
                f"{idp_server.url}/login/idp/upstream/callback",
                "--scope",
                "openid",
                "--scope",
                "email",
                "--scope",
                "profile",
                "--json",
            )
        )
        yield server, registered["client_id"], registered["client_secret"]
    finally:
        server.stop()


@pytest.fixture
def fake_github() -> Iterator[Upstream]:
    with running_upstream() as running:
        yield running


async def _authorize(
    page: Page, idp_server: Server, catcher: Catcher
) -> tuple[AsyncOAuth2Client, str, str]:
    """The relying party's authorization request, opened in the browser: its login page."""
    rp = await register_client()
    await page.route("http://127.0.0.1:9/**", catcher)
    oauth = oauth_client(rp, "openid profile email")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, _ = oauth.create_authorization_url(
        f"{idp_server.url}/authorize", code_verifier=verifier, nonce=nonce
    )
    await page.goto(url)
    return oauth, verifier, nonce


async def test_a_second_provider_as_upstream_and_the_id_token_says_fed(
    idp_server: Server, upstream_provider: tuple[Server, str, str], page: Page
) -> None:
    upstream, client_id, client_secret = upstream_provider
    await add_upstream_provider(upstream.env["PROVIDER_ISSUER"], client_id, client_secret)
    catcher = Catcher()
    oauth, verifier, nonce = await _authorize(page, idp_server, catcher)
    await page.click("#idp-upstream")
    # Now at the upstream provider: its own sign-in page and consent.
    await page.wait_for_url(f"{upstream.env['PROVIDER_ISSUER']}/login**")
    await sign_in_on_page(page, UPSTREAM_USER, PASSWORD)
    await page.wait_for_selector("#allow")
    assert "Downstream Provider" in await page.content()
    await page.click("#allow")
    # Back here: our consent for the relying party.
    await page.wait_for_url(f"{idp_server.url}/consent**")
    assert "Example App" in await page.content()
    await page.click("#allow")
    returned = query_of(await catcher.next_url())
    async with oauth as client:
        token = await client.fetch_token(
            f"{idp_server.url}/token", code=returned["code"], code_verifier=verifier
        )
        keys = KeySet.import_key_set(await fetch_json(client, f"{idp_server.url}/jwks"))
    claims = jwt.decode(token["id_token"], keys).claims
    assert claims["nonce"] == nonce
    assert claims["amr"] == ["fed"]
    user = await User.get(email=UPSTREAM_USER)
    assert claims["sub"] == str(user.id)
    assert user.email_verified_at is not None
    assert user.name == "Grace Upstream"
    link = await FederatedIdentity.get(user_id=user.id)
    assert link.provider_id == "upstream"
    login = await AuditEvent.get(event="user.login", user_id=user.id)
    assert login.details == {"method": "federated", "amr": ["fed"], "idp": "upstream"}


async def add_upstream_provider(issuer: str, client_id: str, client_secret: str) -> None:
    """The second instance, as an administrator would add it (sign-up allowed)."""
    await IdentityProvider.create(
        slug="upstream",
        name="Upstream",
        kind="oidc",
        issuer=issuer,
        client_id=client_id,
        client_secret_sealed=seal(
            DEV_SECRET_KEY.encode(), client_secret, purpose=SEALING_PURPOSE, context="upstream"
        ),
        scopes=["openid", "email", "profile"],
        allow_signup=True,
    )


async def test_github_with_an_unverified_primary_email_signs_up_unverified(
    idp_server: Server, fake_github: Upstream, page: Page
) -> None:
    fake_github.user.subject, fake_github.user.email_verified = "583231", False
    await add_upstream(fake_github, "github", kind="oauth2", name="GitHub", allow_signup=True)
    catcher = Catcher()
    oauth, verifier, _ = await _authorize(page, idp_server, catcher)
    await page.click("#idp-github")
    await page.wait_for_url(f"{idp_server.url}/consent**")
    await page.click("#allow")
    returned = query_of(await catcher.next_url())
    async with oauth as client:
        token = await client.fetch_token(
            f"{idp_server.url}/token", code=returned["code"], code_verifier=verifier
        )
        keys = KeySet.import_key_set(await fetch_json(client, f"{idp_server.url}/jwks"))
    assert jwt.decode(token["id_token"], keys).claims["amr"] == ["fed"]
    user = await User.get(email="ada@example.com")
    assert user.email_verified_at is None
    assert (await FederatedIdentity.get(user_id=user.id)).subject == "583231"
    assert fake_github.seen("/user/emails")


async def test_github_without_sign_up_shows_the_error_page_and_the_way_back(
    idp_server: Server, fake_github: Upstream, page: Page
) -> None:
    fake_github.user.subject = "583231"
    await add_upstream(fake_github, "github", kind="oauth2", name="GitHub", allow_signup=False)
    catcher = Catcher()
    await _authorize(page, idp_server, catcher)
    await page.click("#idp-github")
    await page.wait_for_selector("#back-to-login")
    assert "new accounts cannot be created" in await page.inner_text("[role=alert]")
    await page.click("#back-to-login")
    await page.wait_for_selector("#sign-in")
    assert "Continue with GitHub" in await page.content()
    assert await User.all().count() == 0
    failed = await AuditEvent.get(event="user.login_failed")
    assert failed.details == {"idp": "github", "reason": "signup_disallowed"}
