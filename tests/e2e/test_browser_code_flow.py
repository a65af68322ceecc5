"""The whole code flow as a relying party sees it: authlib's client, a real browser, our pages.

discovery → authorize → hosted login (Chromium) → consent → callback → token → ID token checked with
joserfc against the JWKS → userinfo → refresh → revoke → RP-initiated logout.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from playwright.async_api import Page

from provider.storage.models import Session
from tests.e2e.relying_party import Catcher, fetch_json, oauth_client, sign_in_on_page
from tests.oidc import LOGOUT_URI, query_of, register_client
from tests.support import PASSWORD, Server, register


async def test_authlib_client_through_hosted_pages(
    server: Server, client: httpx.AsyncClient, page: Page
) -> None:
    await register(client)
    rp = await register_client()
    catcher = Catcher()
    await page.route("http://127.0.0.1:9/**", catcher)

    async with oauth_client(rp, "openid profile email offline_access") as oauth:
        meta = await fetch_json(oauth, f"{server.url}/.well-known/openid-configuration")
        assert meta["issuer"] == server.url
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
        url, state = oauth.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )

        await page.goto(url)
        assert "Sign in" in await page.content()
        await sign_in_on_page(page, "ada@example.com", PASSWORD)
        await page.wait_for_selector("#allow")
        assert "Example App" in await page.content()
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
            exp={"essential": True},
            auth_time={"essential": True},
        ).validate(id_token.claims)
        assert id_token.header["kid"] in {key["kid"] for key in jwks.as_dict()["keys"]}

        info = (await oauth.get(meta["userinfo_endpoint"])).json()
        assert info["sub"] == id_token.claims["sub"]
        assert info["email"] == "ada@example.com"

        refreshed = await oauth.refresh_token(
            meta["token_endpoint"], refresh_token=token["refresh_token"]
        )
        assert refreshed["refresh_token"] != token["refresh_token"]
        revoked = await oauth.revoke_token(
            meta["revocation_endpoint"],
            token=refreshed["refresh_token"],
            token_type_hint="refresh_token",
        )
        assert revoked.status_code == 200
        dead = await oauth.post(
            meta["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
            auth=(rp.client_id, rp.secret),
        )
        assert dead.status_code == 400
        assert dead.json()["error"] == "invalid_grant"

    logout = urlencode(
        {
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": LOGOUT_URI,
            "state": "bye",
        }
    )
    await page.goto(f"{meta['end_session_endpoint']}?{logout}")
    await page.click("#logout")
    back = query_of(await catcher.next_url())
    assert back == {"state": "bye"}
    session = await Session.get(id=id_token.claims["sid"])
    assert session.revoked_reason == "logout"


async def test_login_page_refuses_wrong_password_in_the_browser(
    server: Server, client: httpx.AsyncClient, page: Page
) -> None:
    await register(client)
    rp = await register_client()
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid",
        "state": "s",
    }
    await page.goto(f"{server.url}/authorize?{urlencode(params)}")
    await sign_in_on_page(page, "ada@example.com", "not the password at all")
    alert = await page.wait_for_selector("[role=alert]")
    assert "incorrect" in (await alert.inner_text())
    assert await Session.all().count() == 0
