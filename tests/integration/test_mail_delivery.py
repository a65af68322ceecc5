"""Mail delivery: the real SMTP path, the outbox, and a mail server that refuses or is down."""

from __future__ import annotations

import asyncio
import re
import time
from email import message_from_bytes, policy
from pathlib import Path

import httpx

from tests.integration.conftest import (
    Mailbox,
    MailServerFactory,
    RefusingHandler,
    html_part,
    text_part,
)
from tests.support import Server, free_port, login, register


def _metric(text: str, name: str, kind: str) -> float:
    match = re.search(rf'^{name}\{{kind="{kind}"\}} ([0-9.e+]+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


async def _wait_for_metric(
    http: httpx.AsyncClient, name: str, kind: str, within: float = 15
) -> float:
    deadline = time.monotonic() + within
    while True:
        value = _metric((await http.get("/metrics")).text, name, kind)
        if value > 0 or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def test_a_mail_has_text_and_html_parts_and_counts_as_sent(
    mail_server: Server, mailbox: Mailbox, smtp: tuple[int, Mailbox]
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        mail = await mailbox.wait_for("ada@example.com", "Verify your email address")
        assert mailbox.envelopes == [("no-reply@provider.test", ["ada@example.com"])]
        assert mail.get_content_type() == "multipart/alternative"
        assert mail["Message-ID"].endswith("@provider.test>")
        assert mail["Date"]
        assert "/email/verify?token=" in text_part(mail)
        assert "/email/verify?token=" in html_part(mail)
        assert await _wait_for_metric(http, "provider_mail_sent_total", "verify_email") >= 1


async def test_a_new_device_gets_a_mail_but_not_the_first_or_a_known_one(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        await register(http)
        await login(http, **{"user-agent": "Mozilla/5.0 (Macintosh) Firefox/130.0"})
        await login(http, **{"user-agent": "Mozilla/5.0 (Macintosh) Firefox/130.0"})
        await asyncio.sleep(0.3)
        assert [m["Subject"] for m in mailbox.to("ada@example.com")] == [
            "Verify your email address"
        ]
        await login(http, **{"user-agent": "Mozilla/5.0 (iPhone) Version/18.0 Safari/605.1"})
        mail = await mailbox.wait_for("ada@example.com", "A new device signed in")
        assert "Safari on iOS" in text_part(mail)
        assert "127.0.0.1" in text_part(mail)
        assert "Safari on iOS" in html_part(mail)


async def test_without_smtp_mails_go_to_the_outbox_and_the_log_names_the_file(
    server: Server,
) -> None:
    address = "outbox.reader@example.com"
    outbox = Path(server.log_path).parent / "var" / "outbox"
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http, email=address)
        deadline = time.monotonic() + 10
        found: list[Path] = []
        while not found:
            assert time.monotonic() < deadline, "no mail in the outbox"
            await asyncio.sleep(0.05)
            found = [
                path
                for path in outbox.glob("*.eml")
                if message_from_bytes(path.read_bytes(), policy=policy.default)["To"] == address
            ]
        assert len(found) == 1
        mail = message_from_bytes(found[0].read_bytes(), policy=policy.default)
        link = re.search(r"/email/verify\?token=(\S+)", text_part(mail))  # type: ignore[arg-type]
        assert link is not None
        token = link.group(1)
        # Following the link works just as with real SMTP.
        verified = await http.post("/v1/auth/email/verify", json={"token": token})
        assert verified.status_code == 200
    log = server.log()
    assert "mail written to the outbox" in log
    assert found[0].name in log
    assert token not in log


async def _register_and_forget(server: Server) -> None:
    """Registration and a reset request answer at once even though no mail can be delivered."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        started = time.monotonic()
        response = await http.post(
            "/v1/auth/register",
            json={"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"},
        )
        assert response.status_code == 201, response.text
        forgot = await http.post("/v1/auth/password/forgot", json={"email": "ada@example.com"})
        assert forgot.status_code == 202, forgot.text
        assert time.monotonic() - started < 3
        failures = await _wait_for_metric(http, "provider_mail_failures_total", "verify_email")
        assert failures >= 1
        assert await _wait_for_metric(http, "provider_mail_failures_total", "reset_password") >= 1


async def test_a_refusing_smtp_server_does_not_break_registration_or_reset(
    mail_server_with: MailServerFactory, refusing_smtp: tuple[int, RefusingHandler]
) -> None:
    port, handler = refusing_smtp
    before = handler.attempts
    server = await mail_server_with(smtp_url=f"smtp://127.0.0.1:{port}")
    await _register_and_forget(server)
    # Every mail was tried MAIL_ATTEMPTS (3) times, then given up.
    assert handler.attempts - before >= 6
    log = server.log()
    assert "mail not delivered; retrying" in log
    assert "mail not delivered; giving up" in log
    assert "550" in log
    assert "token=" not in log


async def test_an_smtp_server_that_is_down_does_not_break_registration_or_reset(
    mail_server_with: MailServerFactory,
) -> None:
    server = await mail_server_with(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    await _register_and_forget(server)
    log = server.log()
    assert "mail not delivered; giving up" in log
    assert "token=" not in log
