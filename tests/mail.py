"""Mail in tests: what the aiosmtpd SMTP server received, and reading links out of it."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from tests.support import Server, free_port

# Known to the tests, so they can open what the server sealed with it.
TEST_SECRET_KEY = "integration-test-secret-key-0123456789abcdef"
# Shared servers are not reset between tests: limits that never trip unless a test lowers them.
MAIL_SETTINGS = {
    "secret_key": TEST_SECRET_KEY,
    "mail_from": "Provider <no-reply@provider.test>",
    "mail_retry_delay": "0.05",
    "mail_attempts": "3",
    "mail_timeout": "5",
    "ratelimit_mail_per_ip": "100000",
    "ratelimit_mail_per_account": "100000",
}


@dataclass
class Mailbox:
    """What the SMTP server received, parsed; filled from aiosmtpd's thread."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def clear(self) -> None:
        self.messages.clear()
        self.envelopes.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in list(self.messages) if m["To"] == address]

    async def wait_for_all(
        self, address: str, count: int, within: float = 10
    ) -> list[EmailMessage]:
        """The first `count` mails to `address`, waiting until that many have arrived."""
        deadline = time.monotonic() + within
        while len(self.to(address)) < count:
            assert time.monotonic() < deadline, f"fewer than {count} mails to {address}"
            await asyncio.sleep(0.05)
        return self.to(address)[:count]

    async def wait_for(
        self, address: str, subject: str | None = None, within: float = 10
    ) -> EmailMessage:
        """The first mail to `address` (whose subject contains `subject`), waiting for it."""
        deadline = time.monotonic() + within
        while True:
            for message in self.to(address):
                if subject is None or subject in str(message["Subject"]):
                    return message
            seen = [(m["To"], m["Subject"]) for m in list(self.messages)]
            assert time.monotonic() < deadline, f"no mail to {address} ({subject}); got {seen}"
            await asyncio.sleep(0.05)


class CollectingHandler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.mailbox.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.mailbox.messages.append(message)
        return "250 Message accepted for delivery"


class RefusingHandler:
    def __init__(self) -> None:
        self.attempts = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        return "550 5.7.1 Delivery refused by policy"


def start_smtp(handler: object) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


MailServerFactory = Callable[..., Awaitable[Server]]


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    return str(part.get_content())


def links(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", text_part(message))


def token_from(message: EmailMessage, server: Server, path: str) -> str:
    """The `token` of the one link to `path` on `server`, in both the text and the HTML part."""
    found = [link for link in links(message) if link.startswith(f"{server.url}{path}?")]
    assert len(found) == 1, links(message)
    assert found[0].replace("&", "&amp;") in html_part(message)
    token = parse_qs(urlsplit(found[0]).query)["token"]
    assert len(token) == 1
    return token[0]
