"""The API documentation page works in a browser with no network but the provider's: its assets
are the provider's own, and its security policy does not block them."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, Route

from tests.support import Server

pytestmark = pytest.mark.e2e

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


async def _only_the_provider(page: Page, server: Server) -> list[str]:
    """Abort every request to another origin; returns the list of what was blocked."""
    blocked: list[str] = []

    async def gate(route: Route) -> None:
        if route.request.url.startswith(server.url + "/"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await page.route("**/*", gate)
    return blocked


async def test_the_docs_page_is_not_blocked_by_its_content_security_policy(
    server: Server, page: Page
) -> None:
    await page.add_init_script(COLLECT_VIOLATIONS)
    await _only_the_provider(page, server)
    response = await page.goto(f"{server.url}/docs", wait_until="load")
    assert response is not None
    assert response.status == 200
    csp = await response.header_value("content-security-policy")
    assert csp is not None
    assert "frame-ancestors 'none'" in csp
    await page.wait_for_timeout(300)
    violations = await page.evaluate("window.__cspViolations")
    assert violations == []


async def test_the_docs_page_renders_its_operations_from_the_provider_alone(
    server: Server, page: Page
) -> None:
    blocked = await _only_the_provider(page, server)
    response = await page.goto(f"{server.url}/docs", wait_until="load")
    assert response is not None
    assert response.status == 200
    operations = page.locator(".opblock")
    await operations.first.wait_for(state="visible", timeout=15_000)
    assert await operations.count() > 30
    assert await page.locator(".opblock-summary-path", has_text="/v1/auth/sessions").count() >= 1
    assert await page.locator(".opblock-summary-path", has_text="/token").count() >= 1
    assert blocked == []
