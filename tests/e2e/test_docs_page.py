"""The API documentation page works in a browser: its own security policy does not block it."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.support import Server

pytestmark = pytest.mark.e2e

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


async def test_the_docs_page_is_not_blocked_by_its_content_security_policy(
    server: Server, page: Page
) -> None:
    await page.add_init_script(COLLECT_VIOLATIONS)
    # No network here: the CDN cannot answer, but the policy is checked before any fetch.
    await page.route("https://cdnjs.cloudflare.com/**", lambda route: route.abort())
    response = await page.goto(f"{server.url}/docs", wait_until="load")
    assert response is not None
    assert response.status == 200
    csp = await response.header_value("content-security-policy")
    assert csp is not None
    assert "frame-ancestors 'none'" in csp
    await page.wait_for_timeout(300)
    violations = await page.evaluate("window.__cspViolations")
    assert violations == []
