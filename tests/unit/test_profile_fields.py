"""The profile field rules: E.164 phones, BCP 47 locales, IANA zones, https pictures, addresses."""

from __future__ import annotations

import pytest

from provider.accounts.profile import checked_profile
from provider.accounts.profile_fields import (
    FieldRefused,
    check_address,
    check_locale,
    check_name,
    check_phone_number,
    check_picture,
    check_zoneinfo,
)
from provider.domain_errors import ValidationFailed


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+14155550123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+33 (1) 23-45.67.89", "+33123456789"),
        ("", None),
    ],
)
def test_phone_numbers_are_stored_in_e164(typed: str, stored: str | None) -> None:
    assert check_phone_number(typed) == stored


@pytest.mark.parametrize(
    "typed", ["4155550123", "+0123456789", "+1", "+1234567890123456", "+1 415 CALL ME", "++1415"]
)
def test_other_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(FieldRefused, match=r"E\.164"):
        check_phone_number(typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("en", "en"),
        ("en-us", "en-US"),
        ("fr_CA", "fr-CA"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("de-CH-1996", "de-CH-1996"),
        ("en-US-x-twain", "en-US-x-twain"),
        ("", None),
    ],
)
def test_locales_are_bcp47_tags(typed: str, stored: str | None) -> None:
    assert check_locale(typed) == stored


@pytest.mark.parametrize(
    "typed", ["en-US!", "e", "en-", "en--US", "en US", "12-34", "en-US-" + "a" * 40]
)
def test_other_locales_are_refused(typed: str) -> None:
    with pytest.raises(FieldRefused, match="BCP 47"):
        check_locale(typed)


def test_zones_come_from_the_iana_database() -> None:
    assert check_zoneinfo("Europe/Paris") == "Europe/Paris"
    assert check_zoneinfo(" America/New_York ") == "America/New_York"
    assert check_zoneinfo("") is None
    for typed in ("Mars/Olympus_Mons", "europe/paris", "../etc/passwd", "UTC+2"):
        with pytest.raises(FieldRefused, match="IANA"):
            check_zoneinfo(typed)


def test_pictures_are_https_urls() -> None:
    url = "https://images.example.com/ada.png?size=200"
    assert check_picture(url) == url
    assert check_picture("") is None
    for typed in (
        "http://images.example.com/ada.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "https://user:secret@images.example.com/ada.png",
        "https:///ada.png",
        "https://images.example.com:99999/ada.png",
        "https://images.example.com/a da.png",
        "https://example.com/" + "a" * 2048,
    ):
        with pytest.raises(FieldRefused):
            check_picture(typed)


def test_names_are_trimmed_text_without_controls() -> None:
    assert check_name("  Ada Lovelace ") == "Ada Lovelace"
    assert check_name("   ") is None
    with pytest.raises(FieldRefused, match="control"):
        check_name("Ada\u202eecalevol")
    with pytest.raises(FieldRefused, match="at most 200"):
        check_name("a" * 201)


def test_addresses_keep_their_known_parts() -> None:
    assert check_address(
        {"street_address": " 1 Main St ", "locality": "Springfield", "country": "", "region": None}
    ) == {"street_address": "1 Main St", "locality": "Springfield"}
    assert check_address({"country": "  "}) is None
    assert check_address(None) is None
    with pytest.raises(FieldRefused, match="unknown parts: planet"):
        check_address({"planet": "Mars"})
    with pytest.raises(FieldRefused, match="must be text"):
        check_address({"locality": 7})


def test_a_change_reports_every_refused_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as refused:
        checked_profile(
            {"phone_number": "12", "locale": "nope nope", "zoneinfo": "Nowhere", "name": "Ada"}
        )
    assert set(refused.value.problems) == {"phone_number", "locale", "zoneinfo"}


def test_a_change_clears_fields_given_as_none_or_blank() -> None:
    assert checked_profile({"name": "", "locale": None, "address": None}) == {
        "name": "",
        "locale": None,
        "address": None,
    }
