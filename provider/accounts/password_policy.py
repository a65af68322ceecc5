"""Password rules: length, not the email, not a well-known password."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MIN_LENGTH = 10
MAX_LENGTH = 256


@cache
def _common_passwords() -> frozenset[str]:
    text = files("provider.accounts").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(password: str, email: str, username: str | None = None) -> list[str]:
    """Every rule the password breaks, in words a person can act on; empty when it is fine."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.strip().lower()
    if lowered in (email.lower(), email.split("@")[0].lower(), (username or "").lower()):
        problems.append("must not be your email address or username")
    if lowered in _common_passwords():
        problems.append("is too common; choose one that is not on lists of leaked passwords")
    return problems
