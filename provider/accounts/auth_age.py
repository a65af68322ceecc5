"""How long ago the session's user last proved who they are, and the rule that uses it."""

from __future__ import annotations

from datetime import timedelta

from provider.config import Settings
from provider.domain_errors import ReauthenticationRequired
from provider.storage.models import Session
from provider.storage.unit_of_work import utcnow


def recently_authenticated(settings: Settings, session: Session) -> bool:
    """A password or second factor was proven within PROVIDER_REAUTHENTICATION_MAX_AGE."""
    age = utcnow() - session.auth_time
    return age <= timedelta(seconds=settings.reauthentication_max_age)


def require_recent_authentication(settings: Settings, session: Session) -> None:
    if not recently_authenticated(settings, session):
        raise ReauthenticationRequired(settings.reauthentication_max_age)
