"""RFC 9728 protected-resource metadata and the bearer challenge, for any Python API.

An API protected by the provider describes itself with a small JSON document at
`/.well-known/oauth-protected-resource` (its identifier, the authorization servers that issue
its tokens, its scopes), and every 401 points there with
`WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728 §5.1). A client that knows nothing
but the API's URL (an MCP client, a CLI) follows that hint to the provider, then asks for a
token with `resource=<identifier>` (RFC 8707).

Nothing here depends on a web framework: build a `ProtectedResource` once, serve
`metadata()` at each of `metadata_paths()`, and answer a refused request with the status,
headers and body of `challenge(...)`. `clients.resource_server` does it with Sanic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

WELL_KNOWN = "/.well-known/oauth-protected-resource"


@dataclass(frozen=True, slots=True)
class Challenge:
    """A refusal as any framework sends it: status, headers and a JSON body."""

    status: int
    headers: dict[str, str]
    body: dict[str, str]


@dataclass(frozen=True, slots=True)
class ProtectedResource:
    """One API: `resource` is its identifier, the `aud` its tokens carry (RFC 8707 §2), and an
    https (or, in development, http) URL where clients reach it."""

    resource: str
    authorization_servers: list[str]
    scopes_supported: list[str] = field(default_factory=list)
    resource_name: str | None = None
    # RFC 9728 §2: how the token may be sent; this helper reads the header only (RFC 6750 §2.1).
    bearer_methods_supported: tuple[str, ...] = ("header",)

    def __post_init__(self) -> None:
        parts = urlsplit(self.resource)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
            # RFC 9728 §2: an https URL (http for local development) without a fragment.
            raise ValueError("resource must be an http(s) URL without a fragment")

    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 §2 document."""
        document: dict[str, Any] = {
            "resource": self.resource,
            "authorization_servers": list(self.authorization_servers),
            "bearer_methods_supported": list(self.bearer_methods_supported),
        }
        if self.scopes_supported:
            document["scopes_supported"] = list(self.scopes_supported)
        if self.resource_name:
            document["resource_name"] = self.resource_name
        return document

    @property
    def metadata_url(self) -> str:
        """RFC 9728 §3.1: the well-known path goes between the host and the resource's path."""
        parts = urlsplit(self.resource)
        return urlunsplit((parts.scheme, parts.netloc, self.metadata_path, parts.query, ""))

    @property
    def metadata_path(self) -> str:
        path = urlsplit(self.resource).path.rstrip("/")
        return WELL_KNOWN + path

    def metadata_paths(self) -> list[str]:
        """Where to serve the document: the RFC 9728 §3.1 path, and the bare well-known path
        that clients also try for an API with a path (the MCP SDK does)."""
        return list(dict.fromkeys([self.metadata_path, WELL_KNOWN]))

    def challenge(
        self,
        error: str | None = None,
        *,
        description: str | None = None,
        scope: str | None = None,
    ) -> Challenge:
        """The answer to a request without a usable token.

        No token: 401 with only the hint. `invalid_token` (bad, expired, or for another
        resource): 401. `insufficient_scope`: 403 naming the `scope` needed (RFC 6750 §3.1).
        """
        params = [f'resource_metadata="{_quoted(self.metadata_url)}"']
        if error:
            params.append(f'error="{_quoted(error)}"')
        if description:
            params.append(f'error_description="{_quoted(description)}"')
        if scope:
            params.append(f'scope="{_quoted(scope)}"')
        status = 403 if error == "insufficient_scope" else 401
        body = {"error": error or "missing_token"}
        return Challenge(status, {"WWW-Authenticate": "Bearer " + ", ".join(params)}, body)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer` header value (scheme case-insensitive)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def has_scopes(claims: dict[str, Any], needed: list[str]) -> bool:
    """Whether a verified token's `scope` claim grants every scope of `needed`."""
    granted = str(claims.get("scope", "")).split()
    return all(scope in granted for scope in needed)


def _quoted(value: str) -> str:
    """An RFC 9110 §5.6.4 quoted-string body: backslash and quote escaped, controls dropped."""
    cleaned = "".join(ch for ch in value if ch.isprintable())
    return cleaned.replace("\\", "\\\\").replace('"', '\\"')
