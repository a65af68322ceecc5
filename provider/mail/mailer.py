"""Security mails: rendered from text + HTML templates, delivered in the background with retries.

A request never waits for mail and never fails because of it: `Mailer.send` renders nothing and
sends nothing itself, it only schedules a task. That task renders the message and hands it to
the transport (SMTP, or `.eml` files in the outbox when no SMTP server is configured), retrying
with exponential backoff. Logs name the kind of mail and its Message-ID, never the recipient's
links or tokens.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import aiosmtplib
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)

from provider.config import Settings
from provider.i18n.catalogues import N_, translator
from provider.ops.metrics import MAIL_FAILURES, MAIL_SENT

log = logging.getLogger("provider.mail")


class MailKind(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    PASSWORD_CHANGED = "password_changed"
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    MFA_RESET = "mfa_reset"
    NEW_DEVICE = "new_device"
    REGISTRATION_ATTEMPT = "registration_attempt"
    INVITATION = "invitation"
    CHANGE_EMAIL = "change_email"
    EMAIL_CHANGE_NOTICE = "email_change_notice"
    PASSKEY_ADDED = "passkey_added"


SUBJECTS: dict[MailKind, str] = {
    MailKind.VERIFY_EMAIL: N_("Verify your email address"),
    MailKind.RESET_PASSWORD: N_("Reset your password"),
    MailKind.PASSWORD_CHANGED: N_("Your password was changed"),
    MailKind.MFA_ENABLED: N_("Two-factor authentication was turned on"),
    MailKind.MFA_DISABLED: N_("Two-factor authentication was turned off"),
    MailKind.MFA_RESET: N_("An administrator reset your two-factor authentication"),
    MailKind.NEW_DEVICE: N_("A new device signed in to your account"),
    MailKind.REGISTRATION_ATTEMPT: N_("Someone tried to register with your address"),
    MailKind.INVITATION: N_("An account was created for you: choose your password"),
    MailKind.CHANGE_EMAIL: N_("Confirm your new email address"),
    MailKind.EMAIL_CHANGE_NOTICE: N_("Your email address is being changed"),
    MailKind.PASSKEY_ADDED: N_("A passkey was added to your account"),
}


def action_link(issuer: str, path: str, **query: str) -> str:
    """An absolute link to a page of this provider, e.g. `<issuer>/email/verify?token=…`."""
    return f"{issuer}{path}?{urlencode(query)}" if query else f"{issuer}{path}"


class Transport(Protocol):
    async def deliver(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpTransport:
    hostname: str
    port: int
    use_tls: bool
    start_tls: bool
    timeout: float
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, timeout: float) -> SmtpTransport:
        """`smtp://[user:pass@]host[:port][?starttls=true]` or `smtps://…` (implicit TLS)."""
        parts = urlsplit(url)
        implicit_tls = parts.scheme == "smtps"
        starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() == "true"
        default_port = 465 if implicit_tls else (587 if starttls else 25)
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or default_port,
            use_tls=implicit_tls,
            start_tls=starttls,
            timeout=timeout,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    async def deliver(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            # False, not None: a plain smtp:// URL means no STARTTLS even if it is offered.
            start_tls=self.start_tls,
            timeout=self.timeout,
        )


@dataclass(frozen=True, slots=True)
class OutboxTransport:
    """No SMTP server: each mail becomes one `.eml` file, for development and demos."""

    directory: Path

    async def deliver(self, message: EmailMessage) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        log.info(
            "mail written to the outbox (no SMTP server configured)",
            extra={"file": str(path), "message_id": message["Message-ID"]},
        )

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


class DiscardTransport:
    """Drops every mail; the default of a Services built without a mailer (tests, tools)."""

    async def deliver(self, message: EmailMessage) -> None:
        log.debug("mail discarded", extra={"message_id": message["Message-ID"]})


class Mailer:
    def __init__(
        self,
        transport: Transport,
        *,
        sender: str = "Provider <no-reply@localhost>",
        issuer: str = "http://127.0.0.1:8000",
        attempts: int = 4,
        retry_delay: float = 2.0,
        brand: Mapping[str, str] | None = None,
        default_locale: str = "en",
        templates_dir: Path | None = None,
    ) -> None:
        self.transport = transport
        self._sender = sender
        self._issuer = issuer
        self._site = urlsplit(issuer).hostname or "provider"
        self._attempts = attempts
        self._retry_delay = retry_delay
        self._pending: dict[asyncio.Task[bool], MailKind] = {}
        self._brand = dict(brand or Settings.model_construct().brand)
        self._default_locale = default_locale
        # PROVIDER_TEMPLATES_DIR/mail/<name> replaces a built-in mail template of that name.
        loaders: list[FileSystemLoader | PackageLoader] = [
            PackageLoader("provider.mail", "templates")
        ]
        if templates_dir is not None:
            loaders.insert(0, FileSystemLoader(templates_dir / "mail"))
        self._templates = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            extensions=["jinja2.ext.i18n"],
        )
        self._templates.policies["ext.i18n.trimmed"] = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        smtp_url = settings.smtp_url.get_secret_value()
        transport: Transport = (
            SmtpTransport.from_url(smtp_url, settings.mail_timeout)
            if smtp_url
            else OutboxTransport(settings.mail_outbox_dir)
        )
        return cls(
            transport,
            sender=settings.mail_from,
            issuer=settings.issuer,
            attempts=settings.mail_attempts,
            retry_delay=settings.mail_retry_delay,
            brand=settings.brand,
            default_locale=settings.default_locale,
            templates_dir=settings.templates_dir,
        )

    def send(
        self, kind: MailKind, to: str, context: Mapping[str, Any], locale: str | None = None
    ) -> None:
        """Schedule a mail and return at once; delivery problems are logged and counted.
        `locale`: the recipient's language (their profile's, else the page they used)."""
        task = asyncio.get_running_loop().create_task(self._send(kind, to, dict(context), locale))
        self._pending[task] = kind
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[bool]) -> None:
        self._pending.pop(task, None)

    def render(
        self, kind: MailKind, to: str, context: Mapping[str, Any], locale: str | None = None
    ) -> EmailMessage:
        language = translator(locale or self._default_locale)
        subject = language.gettext(SUBJECTS[kind])
        values = {
            "site": self._site,
            "issuer": self._issuer,
            "subject": subject,
            "brand": self._brand,
            "who": context.get("name") or context.get("email") or to,
            **language.context(),
            **context,
        }
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self._sender
        message["To"] = to
        message["Date"] = formatdate(usegmt=True)
        domain = parseaddr(self._sender)[1].rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no auto-replies, please
        message.set_content(self._templates.get_template(f"{kind.value}.txt").render(values))
        message.add_alternative(
            self._templates.get_template(f"{kind.value}.html").render(values), subtype="html"
        )
        # After the parts: set_content drops the Content-* headers set before it (RFC 3282).
        message["Content-Language"] = language.locale
        return message

    async def _send(
        self, kind: MailKind, to: str, context: dict[str, Any], locale: str | None
    ) -> bool:
        try:
            message = self.render(kind, to, context, locale)
        except Exception:
            log.exception("mail not rendered", extra={"kind": kind.value})
            MAIL_FAILURES.labels(kind=kind.value).inc()
            return False
        message_id = message["Message-ID"]
        for attempt in range(1, self._attempts + 1):
            try:
                await self.transport.deliver(message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                if attempt == self._attempts:
                    log.error(
                        "mail not delivered; giving up",
                        extra={
                            "kind": kind.value,
                            "message_id": message_id,
                            "attempts": attempt,
                            "err": f"{type(exc).__name__}: {exc}",
                        },
                    )
                    MAIL_FAILURES.labels(kind=kind.value).inc()
                    return False
                delay = self._retry_delay * 2 ** (attempt - 1)
                log.warning(
                    "mail not delivered; retrying",
                    extra={
                        "kind": kind.value,
                        "message_id": message_id,
                        "attempt": attempt,
                        "retry_in": delay,
                        "err": f"{type(exc).__name__}: {exc}",
                    },
                )
                await asyncio.sleep(delay)
            else:
                MAIL_SENT.labels(kind=kind.value).inc()
                log.info(
                    "mail delivered",
                    extra={"kind": kind.value, "message_id": message_id, "attempt": attempt},
                )
                return True
        return False

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def drain(self, grace: float) -> None:
        """Let queued mails finish (shutdown); whatever still retries after `grace` s is lost."""
        if not self._pending:
            return
        _, unfinished = await asyncio.wait(list(self._pending), timeout=grace)
        for task in unfinished:
            kind = self._pending.get(task)
            task.cancel()
            if kind is not None:
                MAIL_FAILURES.labels(kind=kind.value).inc()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if unfinished:
            log.warning("mails abandoned at shutdown", extra={"count": len(unfinished)})
