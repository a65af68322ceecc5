"""Resource indicators (RFC 8707): which APIs an access token is for, and what it may do there.

A client names resource servers with `resource` at /authorize and /token. Each must be an absolute
URI without a fragment, registered, and open to the client; the token is then audience-restricted
to them (`aud`), carries only the scopes they define (and the OpenID Connect scopes about the
user, which /userinfo reads), and takes their lifetime and signing algorithm.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from provider.context import Services
from provider.domain_errors import InvalidTarget
from provider.oauth.scopes import SCOPES, Scope, describe
from provider.storage.db import default_connection
from provider.storage.models import Client, ResourceServer
from provider.storage.resources import MAX_IDENTIFIER_LENGTH, ResourceServers

# A request naming more APIs than this is refused rather than looked up.
MAX_RESOURCES = 10
# Scopes about the user that stay in a token for an API: /userinfo answers them.
USER_INFO_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "roles", "groups"})


def is_resource_identifier(value: str) -> bool:
    """RFC 8707 §2: an absolute URI (RFC 3986 §4.3) that MUST NOT include a fragment."""
    if not value or len(value) > MAX_IDENTIFIER_LENGTH or "#" in value:
        return False
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return False
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path):
        return False
    return parts.scheme not in ("http", "https") or bool(parts.hostname)


def parse_resources(values: Iterable[str]) -> list[str]:
    """The identifiers a request names, in order, without repeats; InvalidTarget if malformed."""
    seen: dict[str, None] = {}
    for value in values:
        if not is_resource_identifier(value):
            raise InvalidTarget("resource must be an absolute URI without a fragment.")
        seen.setdefault(value, None)
    if len(seen) > MAX_RESOURCES:
        raise InvalidTarget(f"At most {MAX_RESOURCES} resources may be named.")
    return list(seen)


@dataclass(frozen=True, slots=True)
class Target:
    """The resource servers one access token is for."""

    servers: tuple[ResourceServer, ...]

    @property
    def identifiers(self) -> list[str]:
        return [server.identifier for server in self.servers]

    @property
    def audience(self) -> str | list[str]:
        # RFC 7519 §4.1.3: a single audience may be a string; several are an array.
        identifiers = self.identifiers
        return identifiers[0] if len(identifiers) == 1 else identifiers

    @property
    def alg(self) -> str:
        return self.servers[0].signing_alg

    def defined_scopes(self) -> set[str]:
        return {scope for server in self.servers for scope in server.scopes}

    def narrow(self, scopes: Sequence[str]) -> list[str]:
        """The granted scopes this token may carry: those its APIs define, and the user info."""
        defined = self.defined_scopes()
        return [scope for scope in scopes if scope in defined or scope in USER_INFO_SCOPES]

    def ttl(self, default: int) -> int:
        """The shortest lifetime of its resources, never longer than `default`: the key
        publication and the denylists keep their entries for that long only."""
        own = [server.access_token_ttl for server in self.servers if server.access_token_ttl]
        return min([*own, default])


async def resolve_target(services: Services, client: Client, identifiers: Sequence[str]) -> Target:
    """The registered resource servers `identifiers` name, each open to `client`.

    RFC 8707 §2: `invalid_target` when one is unknown or not for this client. Several resources
    share one token, so they must be signed with the same algorithm, which a key must exist for.
    """
    identifiers = parse_resources(identifiers)
    found = await ResourceServers(default_connection()).by_identifiers(identifiers)
    servers: list[ResourceServer] = []
    for identifier in identifiers:
        server = found.get(identifier)
        if server is None or not allows(server, client):
            raise InvalidTarget(f"The resource {identifier} is unknown or not allowed.")
        servers.append(server)
    if len({server.signing_alg for server in servers}) > 1:
        raise InvalidTarget("These resources cannot share one access token; ask for each alone.")
    if servers and servers[0].signing_alg not in services.keystore.algorithms:
        raise InvalidTarget("The provider has no key to sign tokens for this resource yet.")
    return Target(tuple(servers))


def allows(server: ResourceServer, client: Client) -> bool:
    return server.allowed_clients is None or client.id in server.allowed_clients


def requestable_scopes(client: Client, target: Target | None) -> set[str]:
    """A client may ask for its own scopes and for those its requested APIs define."""
    own = set(client.scopes)
    return own | target.defined_scopes() if target is not None else own


async def describe_scopes(scopes: Sequence[str], identifiers: Sequence[str]) -> list[Scope]:
    """What the consent page says of each scope: one an API defines names that API."""
    found = await ResourceServers(default_connection()).by_identifiers(identifiers)
    owners: dict[str, str] = {}
    for identifier in identifiers:
        server = found.get(identifier)
        if server is not None:
            for scope in server.scopes:
                owners.setdefault(scope, server.name)
    return [
        Scope(line.name, f"Use {line.name} at {owners[line.name]}", owners[line.name])
        if line.name in owners and line.name not in SCOPES
        else line
        for line in describe(list(scopes))
    ]


def check_subset(requested: Sequence[str], granted: Sequence[str]) -> None:
    """RFC 8707 §2.2: a token request names only resources of the grant."""
    extra = [identifier for identifier in requested if identifier not in granted]
    if extra:
        raise InvalidTarget(f"The resource {extra[0]} was not part of this grant.")
