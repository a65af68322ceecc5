"""Integration tests share the mail fixtures of tests/conftest.py; the helpers live in
tests/mail.py and tests/totp.py and are importable from here too."""

from __future__ import annotations

from tests.mail import (
    MAIL_SETTINGS,
    TEST_SECRET_KEY,
    CollectingHandler,
    Mailbox,
    MailServerFactory,
    RefusingHandler,
    html_part,
    links,
    text_part,
    token_from,
)
from tests.totp import current_step, enrol_totp, fresh_totp_code, start_mfa_login, totp_code

__all__ = [
    "MAIL_SETTINGS",
    "TEST_SECRET_KEY",
    "CollectingHandler",
    "MailServerFactory",
    "Mailbox",
    "RefusingHandler",
    "current_step",
    "enrol_totp",
    "fresh_totp_code",
    "html_part",
    "links",
    "start_mfa_login",
    "text_part",
    "token_from",
    "totp_code",
]
