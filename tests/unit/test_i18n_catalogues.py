"""The message catalogues: every text of the pages and mails is marked, extracted, and translated
in every installed language (no missing, empty or fuzzy entry)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from provider.i18n.catalogues import LOCALES_DIR, available, plural_sentence, sentence, translator

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "provider/web/templates", ROOT / "provider/mail/templates"]
LANGUAGES = sorted(path.name for path in LOCALES_DIR.iterdir() if path.is_dir())
_PLACEHOLDER = re.compile(r"%\(\w+\)s")
# What a template shows outside a trans block: Jinja tags and comments, HTML tags, and the
# bodies of scripts and styles. Anything else with a letter in it is untranslated text.
_MARKUP = re.compile(
    r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}"
    r"|<script.*?</script>|<style.*?</style>|<[^>]+>",
    re.S,
)
# Words that are the same in every language: units and names.
_UNTRANSLATED = {"UTC", "TOTP", "OpenID", "JSON", "CSV"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A fresh extraction, as `scripts/i18n extract` does it."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    keywords = ["-k", "N_", "-k", "sentence", "-k", "plural_sentence:1,2"]
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "--no-location", "--omit-header", *keywords, "-o", str(pot), "."],
        cwd=ROOT, check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    with pot.open("rb") as source:
        return read_po(source)


def _ids(catalog: Catalog) -> set[str]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog
        if message.id
    }


def test_every_template_text_is_inside_a_trans_block() -> None:
    loose: list[str] = []
    for directory in TEMPLATE_DIRS:
        for template in sorted(directory.rglob("*.*")):
            for text in _MARKUP.sub("\n", template.read_text()).splitlines():
                words = set(re.findall(r"[A-Za-z]{2,}", text)) - _UNTRANSLATED
                if words:
                    loose.append(f"{template.relative_to(ROOT)}: {text.strip()!r}")
    assert not loose, "text outside {% trans %}:\n" + "\n".join(loose)


def test_the_committed_template_is_what_the_sources_hold(extracted: Catalog) -> None:
    with (ROOT / "provider/i18n/messages.pot").open("rb") as source:
        committed = read_po(source)
    assert _ids(committed) == _ids(extracted), "run scripts/i18n update"


def test_the_core_refusals_and_page_messages_are_extracted(extracted: Catalog) -> None:
    ids = _ids(extracted)
    assert "The email, username or password is incorrect." in ids  # a domain error's default
    assert "must be an https URL" in ids  # a field's reason
    assert "This sign-in request has expired. Go back to the application and try again." in ids
    assert "See your email address" in ids  # a scope's description on the consent page
    assert "Verify your email address" in ids  # a mail subject


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_is_complete(language: str, extracted: Catalog) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    assert _ids(extracted) - _ids(catalog) == set(), "missing: run scripts/i18n update"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"{language}: untranslated {message.id!r}"
        source_id = message.id if isinstance(message.id, str) else message.id[1]
        for form in forms:
            assert set(_PLACEHOLDER.findall(form)) == set(_PLACEHOLDER.findall(source_id)), (
                f"{language}: {message.id!r} -> {form!r}"
            )


def test_the_installed_languages_are_english_and_the_catalogues() -> None:
    assert available() == sorted(["en", *LANGUAGES])
    assert {"de", "es", "fr"} <= set(LANGUAGES)


def test_a_translator_formats_sentences_and_plurals_and_leaves_unknown_text_alone() -> None:
    german = translator("de")
    assert german.locale == "de"
    assert german.gettext("Sign in") == "Anmelden"
    assert german.gettext(sentence("Your address is now %(email)s.", email="a@b.c")) == (
        "Ihre Adresse ist jetzt a@b.c."
    )
    one, many = (
        plural_sentence(
            "Your password is changed; %(count)s other session signed out.",
            "Your password is changed; %(count)s other sessions signed out.",
            count,
        )
        for count in (1, 2)
    )
    assert german.gettext(one) == "Ihr Passwort ist geändert; 1 andere Sitzung wurde abgemeldet."
    assert german.gettext(many).startswith("Ihr Passwort ist geändert; 2 andere Sitzungen")
    assert german.gettext("Acme client") == "Acme client"
    assert german.gettext("") == ""
    assert translator("xx").locale == "en"
