"""The installed message catalogues, compiled in memory when the process starts.

The `.po` files under `provider/i18n/locales/<lang>/LC_MESSAGES/` are the only source: they are
compiled here with Babel at start, so a fresh clone or an installed wheel needs no build step and
no `.mo` file is ever committed or stale. English is the language of the templates and code
(the message ids), so it needs no catalogue.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from provider.domain_errors import Phrase

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
SOURCE_LOCALE = "en"


@dataclass(frozen=True, slots=True)
class Message:
    """A sentence with values, translated when the page or mail that shows it is rendered."""

    text: str
    values: Mapping[str, Any]
    plural: str | None = None
    count: int = 1


def sentence(text: str, **values: Any) -> Message:
    """`sentence("We sent a link to %(email)s.", email=…)`: extracted like a gettext call."""
    return Message(text, values)


def plural_sentence(singular: str, plural: str, count: int, **values: Any) -> Message:
    """Like `sentence`, with the form for `count` (`%(count)s` is filled in), as ngettext."""
    return Message(singular, {"count": count, **values}, plural, count)


def N_(text: str) -> str:
    """Mark a constant for extraction; it is translated where it is shown."""
    return text


class Translator:
    """One language's gettext functions, handed to each render (never installed globally)."""

    def __init__(self, locale: str, translations: gettext.NullTranslations) -> None:
        self.locale = locale
        self._translations = translations

    def gettext(self, text: str | Message, **values: Any) -> str:
        if isinstance(text, Message) and text.plural is not None:
            form = self._translations.ngettext(text.text, text.plural, text.count)
            return form % text.values
        if isinstance(text, Message | Phrase):
            return self._translations.gettext(text.text) % text.values
        if not text:
            return text  # gettext("") would be the catalogue's header
        translated = self._translations.gettext(text)
        return translated % values if values else translated

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        translated = self._translations.ngettext(singular, plural, n)
        return translated % {"num": n, **values}

    def context(self) -> dict[str, Any]:
        """What a template needs: jinja2's i18n extension looks `gettext` up in the context."""
        return {"gettext": self.gettext, "ngettext": self.ngettext, "lang": self.locale}


def _compile(po_file: Path) -> gettext.GNUTranslations:
    with po_file.open("rb") as source:
        catalog = read_po(source)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def installed() -> Mapping[str, gettext.NullTranslations]:
    """Every language with a catalogue, plus the source language; read once per process."""
    languages: dict[str, gettext.NullTranslations] = {SOURCE_LOCALE: gettext.NullTranslations()}
    for po_file in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        languages[po_file.parent.parent.name.replace("_", "-")] = _compile(po_file)
    return languages


def available() -> list[str]:
    """The installed languages as BCP 47 tags, for `ui_locales_supported` (OIDC Discovery §3)."""
    return sorted(installed())


def translator(locale: str) -> Translator:
    languages = installed()
    tag = locale if locale in languages else SOURCE_LOCALE
    return Translator(tag, languages[tag])
