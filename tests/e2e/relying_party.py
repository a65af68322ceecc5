"""What e2e browser tests share: authlib's client for a registered app, a stand-in for its
callback, and the login form."""

from __future__ import annotations

import asyncio
from typing import Any

from authlib.integrations.httpx_client import AsyncOAuth2Client
from playwright.async_api import Page, Route

from tests.oidc import REDIRECT_URI, RegisteredClient


def oauth_client(rp: RegisteredClient, scope: str) -> AsyncOAuth2Client:
    """authlib's client for `rp`: PKCE S256 and client_secret_basic, as a relying party uses it."""
    return AsyncOAuth2Client(
        rp.client_id,
        rp.secret,
        scope=scope,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


async def fetch_json(oauth: AsyncOAuth2Client, url: str) -> Any:
    """A public document (discovery, JWKS): fetched without the client's token."""
    return (await oauth.request("GET", url, withhold_token=True)).json()


class Catcher:
    """Stands in for the relying party's callback: records where the browser was sent."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.arrived = asyncio.Event()

    async def __call__(self, route: Route) -> None:
        self.urls.append(route.request.url)
        self.arrived.set()
        await route.fulfill(status=200, content_type="text/plain", body="back at the app")

    async def next_url(self) -> str:
        await asyncio.wait_for(self.arrived.wait(), timeout=20)
        self.arrived.clear()
        return self.urls[-1]


async def sign_in_on_page(page: Page, email: str, password: str) -> None:
    await page.fill("input[name=identifier]", email)
    await page.fill("input[name=password]", password)
    await page.click("#sign-in")
