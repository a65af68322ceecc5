"""Password rules: length, not the email, not a breached or common password."""

from __future__ import annotations

from provider.accounts.breached_passwords import is_breached, normalize

MIN_LENGTH = 10
MAX_LENGTH = 256


def password_problems(password: str, email: str, username: str | None = None) -> list[str]:
    """Every rule the password breaks, in words a person can act on; empty when it is fine."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = normalize(password)
    if lowered in (email.lower(), email.split("@")[0].lower(), (username or "").lower()):
        problems.append("must not be your email address or username")
    # NIST SP 800-63B §5.1.1.2: refuse values known to be commonly used or compromised.
    if is_breached(password):
        problems.append("is too common; choose one that is not on lists of leaked passwords")
    return problems
