"""Which language a reader gets: ui_locales, the profile, the browser, then the default."""

from __future__ import annotations

from provider.i18n.negotiation import accept_language, choose_locale

AVAILABLE = ["de", "en", "es", "fr"]


def test_accept_language_is_read_by_quality_then_order() -> None:
    assert accept_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == [
        "fr-CH",
        "fr",
        "en",
        "de",
    ]
    assert accept_language("de;q=0.2, es") == ["es", "de"]
    assert accept_language("en;q=0, de;q=bad, es") == ["es"]
    assert accept_language("") == []


def test_ui_locales_come_first_then_the_profile_then_the_browser_then_the_default() -> None:
    choose = choose_locale
    assert choose(AVAILABLE, "en", ui_locales="de", user_locale="fr", accept="es") == "de"
    # The first of the space-separated list that is installed (OIDC Core §3.1.2.1).
    assert choose(AVAILABLE, "en", ui_locales="ja es-MX fr", accept="de") == "es"
    assert choose(AVAILABLE, "en", ui_locales="ja", user_locale="fr-CA", accept="de") == "fr"
    assert choose(AVAILABLE, "en", user_locale="pt-BR", accept="pt, es;q=0.5") == "es"
    assert choose(AVAILABLE, "fr", accept="ja") == "fr"
    assert choose(AVAILABLE, "ja", accept="") == "en"


def test_a_region_or_script_falls_back_to_its_language() -> None:
    assert choose_locale(AVAILABLE, "en", accept="DE-at") == "de"
    assert choose_locale(AVAILABLE, "en", user_locale="es_419") == "es"
    assert choose_locale(["en", "zh-Hant"], "en", accept="zh-Hant-TW") == "zh-Hant"
