"""What e2e browser tests share: a stand-in for the relying party's callback, and the login form."""

from __future__ import annotations

import asyncio

from playwright.async_api import Page, Route


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
