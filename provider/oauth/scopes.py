"""Scopes we grant, what they mean in words, and which claims each releases (OIDC Core §5.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,128}$")


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    description: str
    # The name of the API (resource server) that defines the scope, when one does: the pages
    # word "Use <scope> at <API>" in the reader's language from it.
    api: str = ""


SCOPES: dict[str, Scope] = {
    s.name: s
    for s in (
        Scope("openid", "Confirm who you are"),
        Scope("profile", "See your name and username"),
        Scope("email", "See your email address"),
        Scope("address", "See your postal address"),
        Scope("phone", "See your phone number"),
        Scope("offline_access", "Stay connected when you are not using the app"),
        Scope("roles", "See your roles in the organisation's apps"),
        Scope("groups", "See the groups you belong to"),
    )
}
DEFAULT_CLIENT_SCOPES = ("openid", "profile", "email", "offline_access")


def parse_scope(value: str) -> list[str]:
    """Space-separated, order kept, duplicates dropped (RFC 6749 §3.3)."""
    seen: dict[str, None] = {}
    for item in value.split(" "):
        if item:
            seen.setdefault(item, None)
    return list(seen)


def is_scope_token(value: str) -> bool:
    """RFC 6749 §3.3 scope-token syntax; anything beyond SCOPES is an API scope of the client."""
    return bool(_SCOPE_TOKEN.match(value))


def describe(scopes: list[str]) -> list[Scope]:
    """A scope we do not know has no description: the pages word "Use <scope> on your behalf"
    in the reader's language."""
    return [SCOPES.get(name) or Scope(name, "") for name in scopes]
