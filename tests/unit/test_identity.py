"""Normal forms of what a person types: emails and usernames."""

from __future__ import annotations

import pytest

from provider.accounts.identity import identifier_key, normalize_email, normalize_username


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
