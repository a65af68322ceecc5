"""Settings are validated at start: bad values and unsafe production setups are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from provider.config import DARK_CARD, DEV_SECRET_KEY, Settings, contrast

STRONG_SECRET = "x" * 40


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PROVIDER_* variable or .env file of the machine leaks into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("PROVIDER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _error(**values: object) -> str:
    with pytest.raises(ValidationError) as raised:
        Settings(**values)  # type: ignore[arg-type]
    return str(raised.value)


def test_the_embedded_defaults_are_valid() -> None:
    settings = Settings()
    assert settings.env == "dev"
    assert settings.database_url.startswith("sqlite://")
    assert settings.redis_url == ""
    assert settings.secret == DEV_SECRET_KEY.encode()
    assert settings.secure_cookies is False
    assert settings.json_logs is False


def test_prod_refuses_a_missing_secret_key() -> None:
    assert "PROVIDER_SECRET_KEY is required" in _error(env="prod", issuer="https://id.example.com")


def test_prod_refuses_the_dev_secret_key() -> None:
    message = _error(env="prod", issuer="https://id.example.com", secret_key=DEV_SECRET_KEY)
    assert "PROVIDER_SECRET_KEY" in message


def test_prod_refuses_a_short_secret_key() -> None:
    message = _error(env="prod", issuer="https://id.example.com", secret_key="too-short")
    assert "at least 32 characters" in message


@pytest.mark.parametrize("issuer", ["http://id.example.com", "http://10.0.0.5:8000"])
def test_prod_refuses_a_plain_http_issuer_that_is_not_local(issuer: str) -> None:
    message = _error(env="prod", issuer=issuer, secret_key=STRONG_SECRET)
    assert "PROVIDER_ISSUER must be https" in message


@pytest.mark.parametrize(
    "issuer",
    ["https://id.example.com", "http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:80"],
)
def test_prod_accepts_tls_or_a_local_issuer(issuer: str) -> None:
    settings = Settings(env="prod", issuer=issuer, secret_key=STRONG_SECRET)  # type: ignore[arg-type]
    assert settings.secret == STRONG_SECRET.encode()
    assert settings.json_logs is True  # log_format=auto means JSON in prod


def test_prod_refuses_outbound_fetches_to_private_addresses() -> None:
    message = _error(
        env="prod",
        issuer="https://id.example.com",
        secret_key=STRONG_SECRET,
        outbound_allow_private=True,
    )
    assert "PROVIDER_OUTBOUND_ALLOW_PRIVATE" in message
    dev = Settings(outbound_allow_private=True)  # type: ignore[call-arg]
    assert dev.outbound_allow_private is True
    assert Settings().outbound_allow_private is False  # type: ignore[call-arg]


def test_prod_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_ENV", "prod")
    monkeypatch.setenv("PROVIDER_ISSUER", "https://id.example.com")
    with pytest.raises(ValidationError, match="PROVIDER_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("PROVIDER_SECRET_KEY", STRONG_SECRET)
    assert Settings().secure_cookies is True


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PROVIDER_PORT=9999\nPROVIDER_CORS_ORIGINS=https://a.example\n")
    settings = Settings()
    assert settings.port == 9999
    assert settings.cors_origins == ["https://a.example"]


@pytest.mark.parametrize(
    ("issuer", "problem"),
    [
        ("id.example.com", "absolute http(s) URL"),
        ("ftp://id.example.com", "absolute http(s) URL"),
        ("https://", "absolute http(s) URL"),
        ("https://id.example.com/?tenant=a", "query or fragment"),
        ("https://id.example.com/#top", "query or fragment"),
    ],
)
def test_the_issuer_must_be_a_plain_absolute_url(issuer: str, problem: str) -> None:
    assert problem in _error(issuer=issuer)


def test_a_trailing_slash_of_the_issuer_is_dropped() -> None:
    assert Settings(issuer="https://id.example.com/tenant/").issuer == (
        "https://id.example.com/tenant"
    )


def test_database_urls() -> None:
    assert Settings(database_url="postgresql://u@h/db").database_url == "postgres://u@h/db"
    assert "sqlite:// or postgres://" in _error(database_url="mysql://u@h/db")


def test_redis_urls() -> None:
    assert Settings(redis_url="rediss://h:6380/0").redis_url == "rediss://h:6380/0"
    assert "redis://" in _error(redis_url="http://h:6379")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROVIDER_PORT", "notaport"),
        ("PROVIDER_PORT", "0"),
        ("PROVIDER_PORT", "70000"),
        ("PROVIDER_WORKERS", "0"),
        ("PROVIDER_ACCESS_TOKEN_TTL", "5"),
        ("PROVIDER_MAX_SESSIONS_PER_USER", "0"),
        ("PROVIDER_LOCKOUT_THRESHOLD", "0"),
        ("PROVIDER_ENV", "staging"),
        ("PROVIDER_LOG_FORMAT", "xml"),
        ("PROVIDER_MAX_BODY_SIZE", "10"),
    ],
)
def test_out_of_range_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    field = name.removeprefix("PROVIDER_").lower()
    assert [error["loc"] for error in raised.value.errors()] == [(field,)]


def test_the_idle_timeout_cannot_exceed_the_absolute_lifetime() -> None:
    assert "session_idle_ttl must not exceed" in _error(
        session_idle_ttl=3600, session_absolute_ttl=600
    )


def test_cors_origins_from_a_comma_list_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_CORS_ORIGINS", " https://a.example , https://b.example,")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("PROVIDER_CORS_ORIGINS", '["https://c.example"]')
    assert Settings().cors_origins == ["https://c.example"]


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_secrets_do_not_show_in_the_repr() -> None:
    settings = Settings(secret_key=STRONG_SECRET, metrics_token="metrics-token-value")  # type: ignore[arg-type]
    assert STRONG_SECRET not in repr(settings)
    assert "metrics-token-value" not in repr(settings)


def test_malformed_json_cors_origins_are_a_validation_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROVIDER_CORS_ORIGINS", "[not json")
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert raised.value.errors()[0]["loc"] == ("cors_origins",)


def test_without_an_issuer_the_issuer_follows_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().issuer == "http://127.0.0.1:8000"
    monkeypatch.setenv("PROVIDER_PORT", "9123")
    assert Settings().issuer == "http://127.0.0.1:9123"
    assert Settings(port=7000).issuer == "http://127.0.0.1:7000"  # type: ignore[call-arg]
    monkeypatch.setenv("PROVIDER_ISSUER", "https://id.example.com/")
    assert Settings().issuer == "https://id.example.com"


def test_brand_colours_are_hex_and_the_primary_one_is_readable_with_white_text() -> None:
    settings = Settings(brand_primary_color="#0B5CAD", brand_accent_color="#f5a623")
    assert settings.brand_primary_color == "#0b5cad"
    for value in ("blue", "#0b5cad80", "#fff"):
        with pytest.raises(ValidationError, match="#rrggbb"):
            Settings(brand_primary_color=value)
    # Yellow under white text: 1.6:1, refused (WCAG 2.2 SC 1.4.3 asks 4.5:1).
    with pytest.raises(ValidationError, match=r"4\.5:1"):
        Settings(brand_primary_color="#f5d623")


def test_the_dark_schemes_primary_colour_is_set_or_derived_and_readable_on_the_dark_card() -> None:
    derived = Settings(brand_primary_color="#0b5cad")
    # The same hue, lightened as little as gives 4.5:1 on the dark card (WCAG 2.2 SC 1.4.3).
    assert derived.primary_color_dark == "#548dc6"
    assert contrast(derived.primary_color_dark, DARK_CARD) >= 4.5
    assert derived.brand["primary_color_dark"] == "#548dc6"
    assert Settings().primary_color_dark == ""
    chosen = Settings(brand_primary_color="#0b5cad", brand_primary_color_dark="#8AB8FF")
    assert chosen.primary_color_dark == "#8ab8ff"
    assert Settings(brand_accent_color_dark="#F5A623").brand["accent_color_dark"] == "#f5a623"
    # Dark blue on the dark card: 1.9:1, refused.
    with pytest.raises(ValidationError, match=r"dark scheme.*4\.5:1"):
        Settings(brand_primary_color_dark="#0b5cad")
    with pytest.raises(ValidationError, match="#rrggbb"):
        Settings(brand_accent_color_dark="orange")


def test_the_logo_is_an_https_url_or_an_image_file(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG")
    assert Settings(brand_logo=str(logo)).logo_url == "http://127.0.0.1:8000/branding/logo"
    url = "https://cdn.example.com/logo.svg"
    assert Settings(brand_logo=url).logo_url == url
    assert Settings().logo_url == ""
    for value, reason in (
        ("http://cdn.example.com/logo.png", "https"),
        (str(tmp_path / "logo.exe"), ".png"),
        (str(tmp_path / "missing.png"), "names no file"),
    ):
        with pytest.raises(ValidationError, match=reason):
            Settings(brand_logo=value)


def test_the_legal_and_support_links_are_web_or_mail_addresses() -> None:
    assert Settings(support_url="mailto:help@example.com").support_url == "mailto:help@example.com"
    with pytest.raises(ValidationError, match="http"):
        Settings(terms_url="javascript:alert(1)")


def test_who_vouches_for_clients_is_the_org_else_a_set_product_name_else_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issuer = "https://id.example.com"
    assert Settings(issuer=issuer).org_label == "id.example.com"  # PRODUCT_NAME left at default
    assert Settings(issuer=issuer, product_name="Acme ID").org_label == "Acme ID"
    both = Settings(issuer=issuer, product_name="Acme ID", org_name="Acme Corp")
    assert both.org_label == "Acme Corp"
    monkeypatch.setenv("PROVIDER_PRODUCT_NAME", "Acme ID")
    assert Settings(issuer=issuer).org_label == "Acme ID"
