"""Normal forms of the identifiers a person types, and the rules for new ones.

A new email address is checked by the `email-validator` library (syntax, IDNA, special-use
domains such as .local, .test and .invalid; never DNS) and refused when it hides characters
(zero-width, bidi controls: the library's unsafe characters) or mixes scripts inside one part,
as "\u0430da@example.com" does with a Cyrillic "\u0430" among Latin letters (the look-alikes of
UTS #39 §5.2: a part may use one script, or Han with Hiragana and Katakana, or Han with Hangul).
Usernames are ASCII letters, digits, '.', '_' and '-' after NFKC, so they cannot mix scripts.
"""

from __future__ import annotations

import re
import unicodedata

from provider.domain_errors import Phrase

# No whitespace or control characters anywhere: "a@example.com\x00" is not a second address.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s.\x00-\x1f\x7f]{2,}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# Scripts that are written together (UTS #39 §5.2 "highly restrictive").
_COMBINED_SCRIPTS = (
    frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"HAN", "HANGUL"}),
)
_SCRIPT_OF_NAME = {"CJK": "HAN", "KANGXI": "HAN", "IDEOGRAPHIC": "HAN"}


class IdentifierRefused(ValueError):
    """A new email or username that is not acceptable; the message says why."""

    @property
    def reason(self) -> str:
        """The reason as raised: a `Phrase` keeps its message id for the pages."""
        reason: str = self.args[0]
        return reason


def normalize_email(value: str) -> str | None:
    """Trimmed, NFKC, lower-cased; None when it is not a plausible address.

    The lenient form used to look an account up by what is typed at login.
    """
    email = unicodedata.normalize("NFKC", value).strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        return None
    return email


def new_email(value: str) -> str:
    """The normal form of an address for a new account; IdentifierRefused if not acceptable."""
    # Imported here: its grammar compiles a set of large patterns, a start-up cost that only
    # the creation of an account or a change of address needs.
    from email_validator import EmailNotValidError, validate_email

    text = unicodedata.normalize("NFKC", value).strip()
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise IdentifierRefused(
            Phrase("is not a valid email address (%(reason)s)", reason=str(exc))
        ) from exc
    local, _, domain = info.normalized.rpartition("@")
    for part in [local, *domain.split(".")]:
        if not _single_script(part):
            raise IdentifierRefused(
                "is not a valid email address (it mixes letters of different scripts, "
                "which is how look-alike addresses are made)"
            )
    email = normalize_email(info.normalized)
    if email is None:
        raise IdentifierRefused("is not a valid email address")
    return email


def normalize_username(value: str) -> str | None:
    username = unicodedata.normalize("NFKC", value).strip().lower()
    if not _USERNAME.match(username):
        return None
    return username


def _script(char: str) -> str | None:
    """The script of a letter, from its Unicode name ("CYRILLIC SMALL LETTER A"); None for
    anything that is not a letter (digits, '.', '+', '-' belong to every script)."""
    if not unicodedata.category(char).startswith("L"):
        return None
    first = unicodedata.name(char, "UNKNOWN").split()[0]
    return _SCRIPT_OF_NAME.get(first, first)


def _single_script(text: str) -> bool:
    scripts = {script for script in map(_script, text) if script is not None}
    return len(scripts) <= 1 or any(scripts <= combined for combined in _COMBINED_SCRIPTS)


def identifier_key(value: str) -> str:
    """One spelling per account of what is typed at login, for counting attempts per account.

    The normal email or username when the text is one (as the lookup sees it), else the trimmed,
    NFKC, lower-cased text: " Ada@Example.com" and "ada@example.com" are the same account.
    """
    text = unicodedata.normalize("NFKC", value).strip().lower()
    normal = normalize_email(text) if "@" in text else normalize_username(text)
    return normal or text
