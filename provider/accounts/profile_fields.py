"""The rules of each profile field (OIDC Core §5.1 standard claims), as plain functions.

Each checker takes what the user typed and returns the value to store (None clears the field) or
raises FieldRefused with the reason. The JSON API and the account page share them through
`provider.accounts.profile.update_profile`.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from provider.accounts.identity import normalize_username
from provider.domain_errors import Phrase

# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# RFC 5646 §2.1 langtag: language (with extlang), script, region, variants, extensions, private use.
_BCP47 = re.compile(
    r"^(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"
    r"(?:-[a-z]{4})?"
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?$",
    re.IGNORECASE,
)
_NAME_MAX = 200
_PICTURE_MAX = 2048
ADDRESS_PARTS = ("formatted", "street_address", "locality", "region", "postal_code", "country")
_ADDRESS_PART_MAX = 512
USERNAME_RULE = (
    "must be 3-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"
)


class FieldRefused(ValueError):
    """The value is not acceptable; the message says why, after the field's name."""

    @property
    def reason(self) -> str:
        """The reason as raised: a `Phrase` keeps its message id for the pages."""
        reason: str = self.args[0]
        return reason


def _text(value: str, limit: int) -> str | None:
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > limit:
        raise FieldRefused(Phrase("must be at most %(limit)s characters", limit=limit))
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in text):
        raise FieldRefused("must not contain control characters")
    return text or None


def check_name(value: str) -> str | None:
    return _text(value, _NAME_MAX)


def check_username(value: str) -> str | None:
    if not value.strip():
        return None
    username = normalize_username(value)
    if username is None:
        raise FieldRefused(USERNAME_RULE)
    return username


def check_phone_number(value: str) -> str | None:
    """E.164, as OIDC Core §5.1 recommends; spaces, dots, dashes and brackets are dropped."""
    compact = re.sub(r"[\s.()\-]", "", value)
    if not compact:
        return None
    if not _E164.match(compact):
        raise FieldRefused("must be an international number in E.164 form, such as +14155550123")
    return compact


def check_locale(value: str) -> str | None:
    """A BCP 47 language tag (RFC 5646), cased as §2.1.1 suggests: en, en-US, zh-Hant-TW."""
    tag = value.strip().replace("_", "-")
    if not tag:
        return None
    if len(tag) > 35 or not _BCP47.match(tag):
        raise FieldRefused("must be a BCP 47 language tag, such as en-US")
    return _canonical_case(tag)


def _canonical_case(tag: str) -> str:
    parts = tag.split("-")
    cased = [parts[0].lower()]
    for part in parts[1:]:
        if cased[-1] in ("x", "u", "t") or len(cased[-1]) == 1:
            cased.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            cased.append(part.title())
        elif len(part) == 2 and part.isalpha():
            cased.append(part.upper())
        else:
            cased.append(part.lower())
    return "-".join(cased)


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_zoneinfo(value: str) -> str | None:
    """A zone of the IANA time zone database, such as Europe/Paris."""
    zone = value.strip()
    if not zone:
        return None
    if zone not in _zones():
        raise FieldRefused("must be an IANA time zone, such as Europe/Paris")
    return zone


def check_picture(value: str) -> str | None:
    """An https URL of an image: never another scheme, never credentials in it."""
    url = value.strip()
    if not url:
        return None
    if len(url) > _PICTURE_MAX:
        raise FieldRefused(f"must be at most {_PICTURE_MAX} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises ValueError here
    except ValueError as exc:
        raise FieldRefused("must be an https URL") from exc
    if parts.scheme != "https" or not host or parts.username or parts.password:
        raise FieldRefused("must be an https URL")
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in url):
        raise FieldRefused("must be an https URL")
    return url


def check_address(value: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The OIDC address claim (§5.1.1): its known parts as text; empty parts are dropped."""
    if value is None:
        return None
    unknown = sorted(set(value) - set(ADDRESS_PARTS))
    if unknown:
        raise FieldRefused(Phrase("has unknown parts: %(parts)s", parts=", ".join(unknown)))
    address: dict[str, str] = {}
    for part in ADDRESS_PARTS:
        raw = value.get(part)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise FieldRefused(Phrase("part %(part)s must be text", part=part))
        text = _multiline(raw) if part == "formatted" else _text(raw, _ADDRESS_PART_MAX)
        if text:
            address[part] = text
    return address or None


def _multiline(value: str) -> str | None:
    lines = [_text(line, _ADDRESS_PART_MAX) or "" for line in value.splitlines()]
    text = "\n".join(line for line in lines if line)
    if len(text) > _ADDRESS_PART_MAX:
        raise FieldRefused(f"must be at most {_ADDRESS_PART_MAX} characters")
    return text or None


TEXT_FIELDS: dict[str, Callable[[str], str | None]] = {
    "name": check_name,
    "given_name": check_name,
    "family_name": check_name,
    "username": check_username,
    "locale": check_locale,
    "zoneinfo": check_zoneinfo,
    "picture": check_picture,
    "phone_number": check_phone_number,
}
PROFILE_FIELDS = (*TEXT_FIELDS, "address")
