"""`provider demo`: the printed URL walks a newcomer through a whole sign-in."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Response

from provider.storage.models import Client
from tests.support import PASSWORD, ROOT, Server, free_port, register

pytestmark = pytest.mark.e2e

OPEN_LINE = re.compile(r"Open (http://127\.0\.0\.1:\d+/login) to sign in")


@pytest.fixture
def demo(server: Server) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "provider", "demo", "--port", str(free_port())],
        cwd=ROOT,
        env={**server.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        match = OPEN_LINE.search(line)
        if match:
            url = match.group(1)
            break
    assert url, process.poll()
    yield process, url
    process.terminate()
    process.wait(timeout=20)


async def test_the_printed_url_signs_in_through_the_provider(
    server: Server, demo: tuple[subprocess.Popen[str], str], page: Page
) -> None:
    process, login_url = demo
    clients = await Client.filter(name="Demo app").values("redirect_uris")
    app_url = login_url.removesuffix("/login")
    assert clients == [{"redirect_uris": [f"{app_url}/callback"]}]
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http)
    response: Response | None = None
    for _ in range(100):
        try:
            response = await page.goto(login_url)
            break
        except PlaywrightError:  # the app is still starting
            await page.wait_for_timeout(200)
    assert response is not None
    assert response.status == 200
    await page.fill("input[name=identifier]", "ada@example.com")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#sign-in")
    await page.click("#allow")
    await page.wait_for_url(f"{app_url}/")
    await page.goto(f"{app_url}/me")
    result = json.loads(await page.inner_text("body"))
    assert result["id_token_claims"]["email"] == "ada@example.com"
    assert result["id_token_claims"]["iss"] == server.url
    process.terminate()
    assert process.wait(timeout=20) == 0
