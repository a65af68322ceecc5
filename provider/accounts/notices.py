"""The mails that tell a user something happened to their account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provider.context import Caller, Services
from provider.mail.mailer import MailKind
from provider.sessions.devices import describe_device
from provider.storage.models import User
from provider.storage.unit_of_work import utcnow


def account_notice(
    services: Services, caller: Caller, user: User, kind: MailKind, **extra: Any
) -> Callable[[], None]:
    """A callback that queues the mail; pass it to `UnitOfWork.after_commit`."""
    context = {
        "name": user.name,
        "email": user.email,
        "time": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "device": describe_device(caller.user_agent),
        "ip": caller.ip,
        **extra,
    }
    email = user.email
    locale = user.locale or caller.locale

    def send() -> None:
        services.mailer.send(kind, email, context, locale)

    return send
