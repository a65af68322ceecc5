"""The mailer on its own: rendering, SMTP URLs, retries with backoff, the outbox, shutdown."""

from __future__ import annotations

import asyncio
import os
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError

from provider.config import Settings
from provider.mail.mailer import (
    SUBJECTS,
    Mailer,
    MailKind,
    OutboxTransport,
    SmtpTransport,
    action_link,
)

CONTEXT = {
    "name": "Ada <script>",
    "email": "ada@example.com",
    "link": "https://id.example.com/email/verify?token=abc&x=1",
    "hours": 24,
    "minutes": 60,
    "days": 7,
    "time": "2026-01-01 10:00 UTC",
    "device": "Firefox on Linux",
    "ip": "192.0.2.1",
    "reset": True,
    "mfa_on": False,
    "new_email": "countess@example.com",
}


class Flaky:
    """Fails `failures` times, then accepts; remembers what it was given."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or aiosmtplib.SMTPResponseException(550, "refused")
        self.calls = 0
        self.delivered: list[EmailMessage] = []

    async def deliver(self, message: EmailMessage) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        self.delivered.append(message)


def _count(name: str, kind: str) -> float:
    return REGISTRY.get_sample_value(name, {"kind": kind}) or 0.0


@pytest.mark.parametrize("kind", list(MailKind))
def test_every_kind_renders_text_and_html(kind: MailKind) -> None:
    mailer = Mailer(Flaky(0), sender="Provider <no-reply@id.example.com>")
    message = mailer.render(kind, "ada@example.com", CONTEXT)
    assert message["Subject"] == SUBJECTS[kind]
    assert message["From"] == "Provider <no-reply@id.example.com>"
    assert message["Message-ID"].endswith("@id.example.com>")
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Ada <script>" in text.get_content()
    # HTML is escaped; the plain text is not.
    assert "Ada &lt;script&gt;" in html.get_content()
    assert "<script>" not in html.get_content()
    links = (
        MailKind.VERIFY_EMAIL,
        MailKind.RESET_PASSWORD,
        MailKind.CHANGE_EMAIL,
        MailKind.EMAIL_CHANGE_NOTICE,
    )
    if kind in links:
        assert CONTEXT["link"] in text.get_content()
        assert "token=abc&amp;x=1" in html.get_content()


def test_a_missing_value_is_an_error_not_an_empty_string() -> None:
    mailer = Mailer(Flaky(0))
    with pytest.raises(Exception, match="link"):
        mailer.render(MailKind.VERIFY_EMAIL, "ada@example.com", {"name": "Ada", "email": "a@b.c"})


def test_action_links_are_built_from_the_issuer() -> None:
    assert (
        action_link("https://id.example.com", "/password/reset", token="a+b/c")
        == "https://id.example.com/password/reset?token=a%2Bb%2Fc"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", ("mail.example.com", 25, False, False, None, None)),
        ("smtp://mail:2525", ("mail", 2525, False, False, None, None)),
        (
            "smtp://u%40x:p%3Aw@mail:587?starttls=true",
            ("mail", 587, False, True, "u@x", "p:w"),
        ),
        ("smtp://mail?starttls=true", ("mail", 587, False, True, None, None)),
        ("smtps://u:p@mail", ("mail", 465, True, False, "u", "p")),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    transport = SmtpTransport.from_url(url, timeout=5)
    assert (
        transport.hostname,
        transport.port,
        transport.use_tls,
        transport.start_tls,
        transport.username,
        transport.password,
    ) == expected
    assert "p:w" not in repr(transport)


@pytest.fixture
def no_provider_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PROVIDER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("no_provider_env")
@pytest.mark.parametrize(
    "url",
    [
        "http://mail",
        "smtp://",
        "smtp://mail:port",
        "smtp://mail?starttls=maybe",
        "smtps://mail?starttls=true",
    ],
)
def test_bad_smtp_urls_are_refused_at_start(url: str) -> None:
    with pytest.raises(ValidationError, match="smtp_url"):
        Settings(smtp_url=url)


@pytest.mark.usefixtures("no_provider_env")
def test_mail_settings_defaults_and_validation() -> None:
    settings = Settings()
    assert settings.smtp_url.get_secret_value() == ""
    assert isinstance(Mailer.from_settings(settings).transport, OutboxTransport)
    with_smtp = Settings(smtp_url="smtp://u:hunter2pass@mail:25")
    assert "hunter2pass" not in repr(with_smtp)
    assert isinstance(Mailer.from_settings(with_smtp).transport, SmtpTransport)
    with pytest.raises(ValidationError, match="mail_from"):
        Settings(mail_from="nobody")
    with pytest.raises(ValidationError, match="mail_from"):
        Settings(mail_from="a@b.c\nBcc: everyone@example.com")
    assert Settings().totp_label == "127.0.0.1"
    assert Settings(totp_issuer="Example").totp_label == "Example"


async def test_send_returns_at_once_and_retries_with_backoff() -> None:
    transport = Flaky(2)
    mailer = Mailer(transport, attempts=4, retry_delay=0.01)
    sent = _count("provider_mail_sent_total", "new_device")
    mailer.send(MailKind.NEW_DEVICE, "ada@example.com", CONTEXT)
    assert transport.calls == 0  # nothing happened inside send()
    assert mailer.pending == 1
    await mailer.drain(5)
    assert transport.calls == 3
    assert len(transport.delivered) == 1
    assert mailer.pending == 0
    assert _count("provider_mail_sent_total", "new_device") == sent + 1


async def test_a_mail_is_given_up_after_every_attempt_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = Flaky(10, ConnectionRefusedError("refused"))
    mailer = Mailer(transport, attempts=3, retry_delay=0.01)
    failures = _count("provider_mail_failures_total", "reset_password")
    mailer.send(MailKind.RESET_PASSWORD, "ada@example.com", CONTEXT)
    await mailer.drain(5)
    assert transport.calls == 3
    assert _count("provider_mail_failures_total", "reset_password") == failures + 1
    assert "giving up" in caplog.text
    assert "token=abc" not in caplog.text


async def test_drain_abandons_what_is_still_retrying() -> None:
    mailer = Mailer(Flaky(10), attempts=5, retry_delay=30)
    failures = _count("provider_mail_failures_total", "mfa_enabled")
    mailer.send(MailKind.MFA_ENABLED, "ada@example.com", CONTEXT)
    await asyncio.sleep(0.05)
    await mailer.drain(0.1)
    assert mailer.pending == 0
    assert _count("provider_mail_failures_total", "mfa_enabled") == failures + 1


async def test_the_outbox_writes_one_eml_per_mail(tmp_path: Path) -> None:
    mailer = Mailer(OutboxTransport(tmp_path / "outbox"))
    mailer.send(MailKind.VERIFY_EMAIL, "ada@example.com", CONTEXT)
    mailer.send(MailKind.VERIFY_EMAIL, "grace@example.com", CONTEXT)
    await mailer.drain(5)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    recipients = {
        message_from_bytes(path.read_bytes(), policy=policy.default)["To"] for path in files
    }
    assert recipients == {"ada@example.com", "grace@example.com"}


@pytest.mark.parametrize("mfa_on", [True, False])
def test_the_reset_mail_says_two_factor_stays_and_who_can_reset_it(mfa_on: bool) -> None:
    message = Mailer(Flaky(0)).render(
        MailKind.RESET_PASSWORD, "ada@example.com", {**CONTEXT, "mfa_on": mfa_on}
    )
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert part is not None
        content = part.get_content()
        assert ("does not turn off two-factor authentication" in content) is mfa_on
        assert ("contact an administrator" in content) is mfa_on


@pytest.mark.parametrize(
    ("locale", "subject", "sentence"),
    [
        ("de", "Ihrem Konto wurde ein Passkey hinzugefügt", "Falls Sie das nicht waren"),
        ("fr", "Une clé d’accès a été ajoutée à votre compte", "Si ce n’était pas vous"),  # noqa: RUF001
        ("es", "Se ha añadido una llave de acceso a tu cuenta", "Si no fuiste tú"),
    ],
)
def test_the_passkey_notice_speaks_the_recipients_language(
    locale: str, subject: str, sentence: str
) -> None:
    message = Mailer(Flaky(0)).render(MailKind.PASSKEY_ADDED, "ada@example.com", CONTEXT, locale)
    assert message["Subject"] == subject
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert part is not None
        assert sentence in part.get_content()
