"""Normal forms of what a person types: emails and usernames."""

from __future__ import annotations

import pytest

from provider.accounts.identity import (
    IdentifierRefused,
    identifier_key,
    new_email,
    normalize_email,
    normalize_username,
)


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada@Example.COM \t", "ada@example.com"),
        ("ADA.LOVELACE+tag@EXAMPLE.co.uk", "ada.lovelace+tag@example.co.uk"),
        ("\uff41\uff44\uff41@example.com", "ada@example.com"),  # full-width letters (NFKC)
    ],
)
def test_emails_are_trimmed_nfkc_normalised_and_lower_cased(typed: str, normal: str) -> None:
    assert normalize_email(typed) == normal


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@example.c",
        "ada@@example.com",
        "a da@example.com",
        "ada@exa mple.com",
        "a" * 65 + "@example.com",
        "ada@" + "a" * 250 + ".com",
        "ada@example.com\x00",
        "ada\x00@example.com",
        "ada@exa\x01mple.com",
        "ada@example.co\x7f",
        "ada\u200b@example.com\x1b",
    ],
)
def test_implausible_emails_are_refused(typed: str) -> None:
    assert normalize_email(typed) is None


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("ada", "ada"),
        ("  Ada_Lovelace-1815 ", "ada_lovelace-1815"),
        ("a.b", "a.b"),
        ("\uff21\uff24\uff21", "ada"),
    ],
)
def test_usernames_are_normalised(typed: str, normal: str) -> None:
    assert normalize_username(typed) == normal


@pytest.mark.parametrize(
    "typed", ["", "ab", "_ada", ".ada", "ada lovelace", "ada@home", "a" * 65, "ädä"]
)
def test_invalid_usernames_are_refused(typed: str) -> None:
    assert normalize_username(typed) is None


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  ADA@Example.com\t", "ada@example.com"),
        ("\uff41da@example.com", "ada@example.com"),
        ("Ada", "ada"),
        (" ada ", "ada"),
        ("Not A Username!", "not a username!"),
        ("broken@", "broken@"),
    ],
)
def test_identifier_keys_give_one_spelling_per_account(typed: str, key: str) -> None:
    assert identifier_key(typed) == key


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada@Example.COM ", "ada@example.com"),
        ("ada.lovelace+tag@EXAMPLE.co.uk", "ada.lovelace+tag@example.co.uk"),
        ("\uff41\uff44\uff41@example.com", "ada@example.com"),
        # One script per part is fine, whichever it is; Han with Kana is written together.
        ("\u043c\u0430\u0448\u0430@example.com", "\u043c\u0430\u0448\u0430@example.com"),
        ("\u5c71\u7530\u305f\u308d\u3046@example.jp", "\u5c71\u7530\u305f\u308d\u3046@example.jp"),
        ("ada1815@example.org", "ada1815@example.org"),
    ],
)
def test_new_emails_are_normalised(typed: str, normal: str) -> None:
    assert new_email(typed) == normal


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("\u0430da@example.com", "scripts"),  # a Cyrillic a among Latin letters
        ("ada@ex\u0430mple.com", "scripts"),  # the same in the domain
        ("\u03bfscar@example.com", "scripts"),  # Greek omicron
        ("ad\u200ba@example.com", "ZERO WIDTH SPACE"),
        ("ad\u200da@example.com", "ZERO WIDTH JOINER"),
        ("ad\u202ea@example.com", "RIGHT-TO-LEFT OVERRIDE"),
        ("ada\u2066@example.com", "LEFT-TO-RIGHT ISOLATE"),
        ("\ufeffada@example.com", "ZERO WIDTH NO-BREAK SPACE"),
        ("ada@host.local", "special-use"),
        ("ada@host.test", "special-use"),
        ("ada@host.invalid", "special-use"),
        ("ada@localhost", "valid"),
        ("ada@example.c", "valid"),
        ("nope", "valid"),
        ("a..b@example.com", "valid"),
    ],
)
def test_look_alike_invisible_and_special_use_emails_are_refused(typed: str, reason: str) -> None:
    with pytest.raises(IdentifierRefused, match="not a valid email address") as refused:
        new_email(typed)
    assert reason in str(refused.value)


@pytest.mark.parametrize("typed", ["\u0430da", "ad\u200ba", "ada\u202e", "\u0251da"])
def test_usernames_with_look_alikes_or_invisible_characters_are_refused(typed: str) -> None:
    assert normalize_username(typed) is None
