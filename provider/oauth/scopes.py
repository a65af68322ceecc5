"""Scopes we grant, what they mean in words, and which claims each releases (OIDC Core §5.4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    description: str


SCOPES: dict[str, Scope] = {
    s.name: s
    for s in (
        Scope("openid", "Confirm who you are"),
        Scope("profile", "See your name and username"),
        Scope("email", "See your email address"),
        Scope("address", "See your postal address"),
        Scope("phone", "See your phone number"),
        Scope("offline_access", "Stay connected when you are not using the app"),
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


def describe(scopes: list[str]) -> list[Scope]:
    return [SCOPES[name] for name in scopes if name in SCOPES]
