"""What every request handler and service needs: the shared services and who is asking."""

from __future__ import annotations

from dataclasses import dataclass, field

from provider.cache.base import Cache
from provider.cache.events import EventPublisher
from provider.config import Settings
from provider.crypto.keys import Keystore
from provider.crypto.passwords import Passwords
from provider.mail.mailer import DiscardTransport, Mailer


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    cache: Cache
    events: EventPublisher
    passwords: Passwords
    keystore: Keystore
    # A default, so code that builds Services without mail (tools, tests) keeps working.
    mailer: Mailer = field(default_factory=lambda: Mailer(DiscardTransport()))


@dataclass(frozen=True, slots=True)
class Caller:
    """The network facts of one request, as written to the audit trail."""

    ip: str
    user_agent: str
    request_id: str
