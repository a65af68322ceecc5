"""The account pages in a real browser, with mail through a real SMTP server (aiosmtpd):
register, open the verification link from the mail, verify; forget the password, reset it
through the mailed link, and sign in with the new one."""

from __future__ import annotations

from playwright.async_api import Page

from provider.storage.models import Session, User
from tests.mail import Mailbox, links
from tests.support import Server

EMAIL = "grace@example.com"
FIRST_PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def _link(message: object, server: Server, path: str) -> str:
    found = [link for link in links(message) if link.startswith(f"{server.url}{path}?")]  # type: ignore[arg-type]
    assert len(found) == 1, found
    return found[0]


async def test_register_verify_forget_and_reset_in_the_browser(
    mail_server: Server, mailbox: Mailbox, page: Page
) -> None:
    await page.goto(f"{mail_server.url}/login?next=/account")
    await page.click("text=Create an account")
    await page.wait_for_url(f"{mail_server.url}/register?next=%2Faccount")
    await page.fill("#email", EMAIL)
    await page.fill("#name", "Grace Hopper")
    await page.fill("#password", "short")
    await page.click("#register")
    # The browser's own check stops a short password before it is sent (minlength).
    assert await page.locator("#password:invalid").count() == 1
    await page.fill("#password", FIRST_PASSWORD)
    await page.click("#register")
    await page.wait_for_selector("text=Check your mail")

    verify_link = _link(await mailbox.wait_for(EMAIL, "Verify"), mail_server, "/email/verify")
    await page.goto(verify_link)
    assert await page.title() == "Verify your email address · Provider"
    assert (await User.get(email=EMAIL)).email_verified_at is None  # opening it spent nothing
    await page.click("#confirm")
    await page.wait_for_selector("text=Email address verified")
    assert (await User.get(email=EMAIL)).email_verified_at is not None

    await page.goto(f"{mail_server.url}/login?next=/account")
    await page.click("text=Forgot password?")
    await page.wait_for_url(f"{mail_server.url}/password/forgot?next=%2Faccount")
    await page.fill("#email", EMAIL)
    await page.click("#send")
    await page.wait_for_selector("text=Check your mail")

    reset_link = _link(await mailbox.wait_for(EMAIL, "Reset"), mail_server, "/password/reset")
    await page.goto(reset_link)
    await page.fill("#password", "password123")  # long enough, but on the list of common ones
    await page.click("#reset")
    errors = await page.wait_for_selector(".field-errors")
    assert "too common" in await errors.inner_text()
    await page.fill("#password", NEW_PASSWORD)
    await page.click("#reset")
    await page.wait_for_selector("text=Password changed")

    await page.get_by_role("link", name="Sign in", exact=True).click()
    await page.fill("input[name=identifier]", EMAIL)
    await page.fill("input[name=password]", FIRST_PASSWORD)
    await page.click("#sign-in")
    alert = await page.wait_for_selector("[role=alert]")
    assert "incorrect" in await alert.inner_text()
    await page.fill("input[name=password]", NEW_PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(f"{mail_server.url}/account")
    assert EMAIL in await page.inner_text("main")
    assert await page.inner_text("#email-status") == "verified"
    user = await User.get(email=EMAIL)
    assert await Session.filter(user_id=user.id, revoked_at=None).count() == 1
