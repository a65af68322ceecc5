"""Two-factor sign-in in a real browser: authlib's client asks, Chromium signs in on our pages
with a password and a TOTP code computed with pyotp, and the ID token says so (amr otp)."""

from __future__ import annotations

import secrets

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from playwright.async_api import Page

from provider.storage.models import AuditEvent, Session
from tests.e2e.relying_party import Catcher, fetch_json, oauth_client, sign_in_on_page
from tests.oidc import query_of, register_client
from tests.support import PASSWORD, Server, register
from tests.support import login as api_login
from tests.totp import enrol_totp, fresh_totp_code


async def test_a_totp_code_on_the_hosted_page_gives_an_id_token_with_otp(
    server: Server, client: httpx.AsyncClient, page: Page
) -> None:
    user = await register(client)
    secret, _ = await enrol_totp(client, await api_login(client))
    rp = await register_client()
    catcher = Catcher()
    await page.route("http://127.0.0.1:9/**", catcher)

    async with oauth_client(rp, "openid profile email") as oauth:
        meta = await fetch_json(oauth, f"{server.url}/.well-known/openid-configuration")
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
        url, state = oauth.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )

        await page.goto(url)
        await sign_in_on_page(page, "ada@example.com", PASSWORD)
        await page.wait_for_url(f"{server.url}/login/mfa?flow=*")
        assert await page.title() == "Two-factor authentication · Provider"
        assert await page.get_attribute("#code", "autocomplete") == "one-time-code"
        # No session before the second factor.
        assert await Session.filter(user_id=user["id"], cookie_hash__isnull=False).count() == 0

        await page.fill("#code", "000000")
        await page.click("#verify")
        alert = await page.wait_for_selector("[role=alert]")
        assert "incorrect" in await alert.inner_text()

        await page.fill("#code", await fresh_totp_code(secret, user["id"]))
        await page.click("#verify")
        await page.wait_for_selector("#allow")
        await page.click("#allow")
        callback = await catcher.next_url()
        returned = query_of(callback)
        assert returned["state"] == state
        assert returned["iss"] == server.url

        token = await oauth.fetch_token(
            meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        jwks = KeySet.import_key_set(await fetch_json(oauth, meta["jwks_uri"]))
    id_token = jwt.decode(token["id_token"], jwks)
    JWTClaimsRegistry(
        iss={"essential": True, "value": server.url},
        aud={"essential": True, "value": rp.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True, "value": user["id"]},
    ).validate(id_token.claims)
    assert "otp" in id_token.claims["amr"]
    assert id_token.claims["amr"] == ["pwd", "otp", "mfa"]
    assert id_token.claims["acr"] == "urn:provider:acr:mfa"
    failed = await AuditEvent.get(event="user.login_failed", user_id=user["id"])
    assert failed.details == {"reason": "invalid_mfa_code"}
