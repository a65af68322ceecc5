"""What every request handler and service needs: the shared services and who is asking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provider.cache.base import Cache
from provider.cache.events import EventPublisher
from provider.cache.local_copies import LocalCopies
from provider.config import Settings
from provider.crypto.keys import Keystore
from provider.crypto.passwords import Passwords
from provider.mail.mailer import DiscardTransport, Mailer
from provider.net.documents import DocumentCache
from provider.net.ip_locations import IpLocations
from provider.net.outbound import MAX_BYTES, OutboundPolicy, fetch_json

# The draft on client ID metadata documents suggests 5 kilobytes as their limit.
CLIENT_DOCUMENT_MAX_BYTES = 5 * 1024

# Namespaces of the per-worker copies (provider.cache.local_copies): the client rows, and the
# facts of a user's sessions that the access-token checks rely on.
CLIENT_COPIES = "client"
SESSION_COPIES = "user-sessions"


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    cache: Cache
    events: EventPublisher
    passwords: Passwords
    keystore: Keystore
    # A default, so code that builds Services without mail (tools, tests) keeps working.
    mailer: Mailer = field(default_factory=lambda: Mailer(DiscardTransport()))
    # Client JWKS fetched from their jwks_uri, under the outbound policy of the settings.
    jwks_documents: DocumentCache = field(
        default_factory=lambda: DocumentCache(lambda uri: fetch_json(uri, OutboundPolicy()))
    )
    # Client ID metadata documents (provider.oauth.client_id_documents), under the same policy
    # with a smaller size cap.
    client_documents: DocumentCache = field(
        default_factory=lambda: DocumentCache(
            lambda uri: fetch_json(uri, OutboundPolicy(max_bytes=CLIENT_DOCUMENT_MAX_BYTES))
        )
    )
    # Where the devices' addresses are, from PROVIDER_GEOIP_DATABASE; nothing without it.
    ip_locations: IpLocations = field(default_factory=IpLocations)
    # This worker's copies of the client rows (provider.oauth.clients.find_active_client).
    clients: LocalCopies[Any] = field(
        default_factory=lambda: LocalCopies(CLIENT_COPIES, enabled=False)
    )
    # This worker's copies of session facts (provider.oauth.access_check), keyed by session id
    # and checked against the version of their user's sessions.
    sessions: LocalCopies[Any] = field(
        default_factory=lambda: LocalCopies(SESSION_COPIES, enabled=False)
    )


@dataclass(frozen=True, slots=True)
class Caller:
    """The network facts of one request, as written to the audit trail."""

    ip: str
    user_agent: str
    request_id: str
    # The language of the page or request, for mails to someone without a `locale` of their own.
    locale: str | None = None


def outbound_policy(settings: Settings, max_bytes: int = MAX_BYTES) -> OutboundPolicy:
    return OutboundPolicy(
        allow_private=settings.outbound_allow_private,
        ca_file=settings.outbound_ca_file,
        max_bytes=max_bytes,
    )
