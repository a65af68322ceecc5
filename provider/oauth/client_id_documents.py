"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, adopted by the
Model Context Protocol): a `client_id` that is an https URL names a JSON document, served by the
client, that describes it. The provider fetches it, checks it, and uses it as a public client.

- The URL: https, a host, a path, no fragment, no credentials, no dot segments (draft §3).
- The fetch goes through provider.net under the outbound policy: https only, the resolved
  address public (no private, loopback, link-local, multicast or reserved address unless the
  development setting allows them), 5 KiB at most (context.CLIENT_DOCUMENT_MAX_BYTES), one
  deadline, no redirects. Documents are cached per worker for their `Cache-Control: max-age`,
  within the floor and ceiling of provider.net.documents; a failure is remembered briefly.
- The document: its `client_id` MUST equal the URL (draft §4.1, simple string comparison); no
  shared secret (`token_endpoint_auth_method` none: a public client); redirect URIs, name and
  logo read under the registration policy (`registration_policy`).
- The client row (registration `metadata_document`) mirrors the last document read, so every
  other endpoint finds the client the ordinary way; it is written again only when the document
  changed. An administrator can disable it like any other client.
- A URL no client row has yet counts as a registration against the per-address hourly limit
  before it is fetched: one address cannot have many new documents fetched nor rows written.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from provider.accounts.limits import client_registration_address, count_address
from provider.context import Caller, Services
from provider.domain_errors import DomainError, UntrustedAuthorizationRequest
from provider.net.outbound import OutboundError
from provider.oauth.clients import METADATA_DOCUMENT, find_client
from provider.oauth.registration_policy import read_registration
from provider.storage.clients import MAX_CLIENT_ID_LENGTH, Clients
from provider.storage.unit_of_work import unit_of_work

# draft §4.1: a document MUST NOT carry a shared secret.
SECRET_FIELDS = ("client_secret", "client_secret_expires_at")
log = logging.getLogger("provider.client_id_documents")


def is_document_client_id(client_id: str) -> bool:
    return client_id.startswith("https://")


def _check_url(client_id: str) -> None:
    """draft §3: what a client identifier URL must look like."""
    parts = urlsplit(client_id)
    if len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise UntrustedAuthorizationRequest(
            f"This application's client_id is longer than {MAX_CLIENT_ID_LENGTH} characters."
        )
    segments = parts.path.split("/")
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or "#" in client_id
        or not parts.path.strip("/")
        or "." in segments
        or ".." in segments
    ):
        raise UntrustedAuthorizationRequest("This application's client_id is not a valid URL.")


def _fields(services: Services, client_id: str, document: dict[str, Any]) -> dict[str, Any]:
    """The client row the document describes, or UntrustedAuthorizationRequest saying why not."""
    if document.get("client_id") != client_id:
        # draft §4.1: the client_id property MUST match the URL exactly.
        raise UntrustedAuthorizationRequest(
            "This application's metadata document names another client_id."
        )
    if any(name in document for name in SECRET_FIELDS):
        raise UntrustedAuthorizationRequest(
            "This application's metadata document holds a client secret."
        )
    if document.get("token_endpoint_auth_method", "none") != "none":
        raise UntrustedAuthorizationRequest(
            "This application's metadata document must use token_endpoint_auth_method none."
        )
    host = urlsplit(client_id).hostname or client_id
    try:
        registration = read_registration(
            services.settings,
            {**document, "token_endpoint_auth_method": "none"},
            default_name=host,
        )
    except DomainError as exc:
        raise UntrustedAuthorizationRequest(
            f"This application's metadata document is not acceptable: {exc.message}"
        ) from exc
    spec = registration.spec
    return {
        "name": spec.name.strip(),
        "public": True,
        "secret_hash": None,
        "redirect_uris": spec.redirect_uris,
        "post_logout_redirect_uris": spec.post_logout_redirect_uris,
        "grant_types": spec.grant_types,
        "scopes": spec.scopes,
        "token_endpoint_auth_method": "none",
        "id_token_signed_response_alg": spec.id_token_alg,
        "first_party": False,
        "introspect_any": False,
        "registration": METADATA_DOCUMENT,
        "client_metadata": registration.metadata,
    }


async def client_from_document(services: Services, caller: Caller, client_id: str) -> None:
    """Fetch (or take from the cache) the document `client_id` names, check it, and bring the
    client row in line with it. Raises UntrustedAuthorizationRequest: with no trusted
    redirect URI yet, the user is told on the provider's own page (RFC 6749 §4.1.2.1)."""
    _check_url(client_id)
    known = await find_client(client_id, include_disabled=True)
    if known is not None and known.registration != METADATA_DOCUMENT:
        raise UntrustedAuthorizationRequest("This application is not known to us.")
    if known is None:
        # A client not seen before is a registration: it counts against the same per-address
        # hourly limit as RFC 7591 registrations, which also bounds the fetches of new URLs.
        await count_address(services, caller, client_registration_address(services.settings))
    try:
        document = await services.client_documents.get(client_id)
    except OutboundError as exc:
        log.info(
            "client metadata document refused", extra={"client_id": client_id, "err": str(exc)}
        )
        raise UntrustedAuthorizationRequest(
            f"This application's metadata document could not be fetched: {exc}."
        ) from exc
    fields = _fields(services, client_id, document)
    async with unit_of_work(caller, services.events) as work:
        created, changed = await Clients(work.conn).mirror(client_id, fields, known)
        if changed:
            work.client_changed(client_id)
        if created or changed:
            await work.audit(
                "client.metadata_document_read",
                client_id=client_id,
                details={"name": fields["name"], "created": created},
            )
