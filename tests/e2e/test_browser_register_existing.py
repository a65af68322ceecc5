"""Registering a taken address in a real browser looks like any registration; the owner is told
by mail (issue 10, item 8)."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from provider.storage.models import AuditEvent, User
from tests.mail import Mailbox, text_part
from tests.support import Server, register

OWNER = "grace@example.com"
PASSWORD = "correct horse battery"


async def test_a_taken_address_gets_the_check_your_mail_page(
    mail_server: Server, mailbox: Mailbox, page: Page
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        await register(http, email=OWNER)
    await page.goto(f"{mail_server.url}/register")
    await page.fill("#email", "Grace@Example.com")
    await page.fill("#name", "Someone Else")
    await page.fill("#password", PASSWORD)
    await page.click("#register")
    await page.wait_for_selector("text=Check your mail")
    assert OWNER in await page.content()
    assert await page.locator(".field-errors").count() == 0

    notice = await mailbox.wait_for(OWNER, "Someone tried to register")
    assert "sign in" in text_part(notice)
    assert await User.filter(email=OWNER).count() == 1
    assert await AuditEvent.filter(event="user.register_existing").count() == 1
