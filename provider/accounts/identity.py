"""Normal forms of the identifiers a person types."""

from __future__ import annotations

import re
import unicodedata

# No whitespace or control characters anywhere: "a@example.com\x00" is not a second address.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s.\x00-\x1f\x7f]{2,}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def normalize_email(value: str) -> str | None:
    """Trimmed, NFKC, lower-cased; None when it is not a plausible address."""
    email = unicodedata.normalize("NFKC", value).strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        return None
    return email


def normalize_username(value: str) -> str | None:
    username = unicodedata.normalize("NFKC", value).strip().lower()
    if not _USERNAME.match(username):
        return None
    return username


def identifier_key(value: str) -> str:
    """One spelling per account of what is typed at login, for counting attempts per account.

    The normal email or username when the text is one (as the lookup sees it), else the trimmed,
    NFKC, lower-cased text: " Ada@Example.com" and "ada@example.com" are the same account.
    """
    text = unicodedata.normalize("NFKC", value).strip().lower()
    normal = normalize_email(text) if "@" in text else normalize_username(text)
    return normal or text
