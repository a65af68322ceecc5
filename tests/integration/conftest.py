"""Mail fixtures: a real SMTP server (aiosmtpd) in the test process, and servers that use it."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from aiosmtpd.controller import Controller

from provider.storage.models import User
from tests.support import PASSWORD, Server, bearer, free_port

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


def _start(handler: object) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on a free port that keeps every message it receives."""
    mailbox = Mailbox()
    controller = _start(CollectingHandler(mailbox))
    yield controller.port, mailbox
    controller.stop()


@pytest.fixture(scope="session")
def refusing_smtp() -> Iterator[tuple[int, RefusingHandler]]:
    """An SMTP server that answers 550 to every message."""
    handler = RefusingHandler()
    controller = _start(handler)
    yield controller.port, handler
    controller.stop()


@pytest.fixture
def mailbox(smtp: tuple[int, Mailbox]) -> Mailbox:
    smtp[1].clear()
    return smtp[1]


MailServerFactory = Callable[..., Awaitable[Server]]


@pytest.fixture
def mail_server_with(server_with: Any, smtp: tuple[int, Mailbox]) -> MailServerFactory:
    """Start (or reuse) a server that delivers to the test SMTP server, with overrides."""

    async def start(**overrides: str) -> Server:
        settings = {"smtp_url": f"smtp://127.0.0.1:{smtp[0]}", **MAIL_SETTINGS, **overrides}
        server: Server = await server_with(**settings)
        return server

    return start


@pytest.fixture
async def mail_server(mail_server_with: MailServerFactory, mailbox: Mailbox) -> Server:
    return await mail_server_with()


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


def totp_code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def current_step() -> int:
    return int(time.time()) // 30


async def fresh_totp_code(secret: str, user_id: str) -> str:
    """A code the server has not seen: the current step, or the next one after the last used.

    The server accepts one step of drift either way; past that, the test rewinds the stored step
    instead of sleeping through a whole 30-second window.
    """
    last = (await User.get(id=user_id)).totp_last_step
    step = current_step() if last is None else max(current_step(), last + 1)
    if step > current_step() + 1:
        await User.filter(id=user_id).update(totp_last_step=current_step() - 1)
        step = current_step()
    return totp_code(secret, step)


async def enrol_totp(http: httpx.AsyncClient, tokens: dict[str, Any]) -> tuple[str, list[str]]:
    """Turn TOTP on for the signed-in user: (the secret, the backup codes)."""
    started = await http.post("/v1/auth/mfa/totp", headers=bearer(tokens))
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    code = totp_code(secret, current_step())
    confirmed = await http.post(
        "/v1/auth/mfa/totp/confirm", json={"code": code}, headers=bearer(tokens)
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["backup_codes"]
    return secret, codes


async def start_mfa_login(
    http: httpx.AsyncClient,
    identifier: str = "ada@example.com",
    password: str = PASSWORD,
    **headers: str,
) -> str:
    """POST /v1/auth/sessions for a user with TOTP on; returns the mfa_token."""
    response = await http.post(
        "/v1/auth/sessions", json={"identifier": identifier, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfa_required"] is True, body
    token: str = body["mfa_token"]
    return token
