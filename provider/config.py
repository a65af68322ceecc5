"""Settings, read from `PROVIDER_*` environment variables and `.env`, validated at start."""

from __future__ import annotations

import ipaddress
import json
import re
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-secret-key-do-not-use-in-production"
LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


# The dark scheme's card (the stylesheet's --card): its links and focus rings are the primary
# colour, and the primary buttons' text (--primary-text) is darker still.
DARK_CARD = "#1b1f25"


def _luminance(color: str) -> float:
    """WCAG 2.2 relative luminance of `#rrggbb`."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The WCAG 2.2 contrast ratio of two `#rrggbb` colours."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def contrast_with_white(color: str) -> float:
    """The WCAG 2.2 contrast ratio of `#rrggbb` against white."""
    return contrast(color, "#ffffff")


def for_dark_scheme(color: str) -> str:
    """`color` mixed with white, as little as gives 4.5:1 on the dark card: a brand's dark
    blue becomes a light blue of the same hue (WCAG 2.2 SC 1.4.3)."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        share = step / 20
        mixed = "#" + "".join(
            f"{round(value + (255 - value) * share):02x}" for value in (red, green, blue)
        )
        if contrast(mixed, DARK_CARD) >= 4.5:
            return mixed
    return "#ffffff"


def _is_local_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every knob of the service. Names map to `PROVIDER_<NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix="PROVIDER_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["dev", "prod"] = "dev"
    issuer: str = Field("", description="default: http://127.0.0.1:<PROVIDER_PORT>")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    database_url: str = "sqlite://var/provider.sqlite3"
    redis_url: str = ""
    keys_dir: Path = Path("keys")
    secret_key: SecretStr | None = None
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: str = "INFO"

    access_token_ttl: int = Field(600, ge=30, le=86_400)
    refresh_token_ttl: int = Field(14 * 86_400, ge=60)
    session_idle_ttl: int = Field(7 * 86_400, ge=60)
    session_absolute_ttl: int = Field(30 * 86_400, ge=60)
    max_sessions_per_user: int = Field(10, ge=1, le=1000)
    session_touch_interval: int = Field(60, ge=1)

    lockout_threshold: int = Field(5, ge=1)
    lockout_window: int = Field(900, ge=1)
    lockout_duration: int = Field(900, ge=1)
    audit_refusal_interval: int = Field(
        60, ge=1, le=86_400, description="one admin.forbidden row per user and route family"
    )
    ratelimit_window: int = Field(60, ge=1)
    ratelimit_login_per_ip: int = Field(30, ge=1)
    ratelimit_login_per_account: int = Field(10, ge=1)
    ratelimit_register_per_ip: int = Field(10, ge=1)
    ratelimit_refresh_per_ip: int = Field(120, ge=1)
    ratelimit_global_per_ip: int = Field(
        0, ge=0, description="requests per client IP and window on every route; 0 turns it off"
    )
    # False: registering a taken email answers like a new account and mails its owner instead.
    registration_reveals_existing: bool = False

    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_cost: int = Field(65_536, ge=8, description="KiB")
    argon2_parallelism: int = Field(4, ge=1)

    key_activation_delay: int = Field(
        3600, ge=0, description="seconds a new key is published first"
    )
    keys_reload_interval: int = Field(30, ge=1)
    client_secret_grace_period: int = Field(3600, ge=0, description="old secret keeps working")
    client_cache: bool = Field(
        False,
        description="keep clients in each worker, checked against a version key in the cache; "
        "only when every client change goes through the admin API, console or CLI",
    )
    session_cache: bool = Field(
        True,
        description="introspection and userinfo check a token's session in the worker's copy, "
        "checked against a version key in the cache that every end of a session moves on",
    )
    trust_proxy: int = Field(0, ge=0, le=10, description="number of proxies in front; 0 = none")
    # NoDecode: a plain comma list must reach the validator (pydantic-settings would parse JSON).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    metrics_token: SecretStr | None = None
    max_body_size: int = Field(64 * 1024, ge=1024)
    purge_interval: int = Field(300, ge=1)
    account_deletion_grace: int = Field(
        30 * 86_400, ge=0, description="seconds a self-deleted account can be restored"
    )
    geoip_database: Path | None = Field(
        None, description="local MaxMind DB file (.mmdb) naming where a device's address is"
    )
    graceful_shutdown_timeout: float = Field(15.0, ge=0)
    drain_delay: float = Field(
        0.0, ge=0, description="seconds /ready answers 503 on SIGTERM before the listener closes"
    )

    # Mail. An empty SMTP_URL writes every mail to MAIL_OUTBOX_DIR as a .eml file instead.
    smtp_url: SecretStr = Field(
        SecretStr(""),
        description="smtp://user:pass@host:port[?starttls=true] or smtps://… (implicit TLS)",
    )
    mail_from: str = "Provider <no-reply@localhost>"
    mail_outbox_dir: Path = Path("var/outbox")
    mail_attempts: int = Field(4, ge=1, le=10, description="delivery attempts per mail")
    mail_retry_delay: float = Field(
        2.0, ge=0, le=300, description="seconds before the first retry; doubles each time"
    )
    mail_timeout: float = Field(15.0, gt=0, le=300)
    email_verification_ttl: int = Field(24 * 3600, ge=60)
    password_reset_ttl: int = Field(3600, ge=60)
    bootstrap_admin_email: str = Field(
        "", max_length=320, description="first administrator: a setup link is printed at start"
    )
    mfa_token_ttl: int = Field(300, ge=30, le=3600)
    passkey_challenge_ttl: int = Field(
        300, ge=30, le=900, description="seconds a passkey ceremony may take, challenge to answer"
    )
    reauthentication_max_age: int = Field(
        300, ge=30, le=86_400, description="seconds a sign-in counts as recent for enrolling MFA"
    )
    totp_issuer: str = Field("", max_length=64, description="label in authenticator apps")
    ratelimit_mail_window: int = Field(3600, ge=1)
    ratelimit_mail_per_ip: int = Field(20, ge=1)
    ratelimit_mail_per_account: int = Field(5, ge=1)

    # The pages and mails: language and brand (README "Branding" and "Languages").
    default_locale: str = Field("en", max_length=35, description="when nothing else decides")
    product_name: str = Field("Provider", min_length=1, max_length=80)
    brand_logo: str = Field(
        "", max_length=2048, description="an image file served at /branding/logo, or an https URL"
    )
    brand_primary_color: str = Field("", description="#rrggbb of buttons, links and focus")
    brand_accent_color: str = Field("", description="#rrggbb of the brand bar above the card")
    brand_primary_color_dark: str = Field(
        "", description="#rrggbb of the primary colour in the dark scheme; derived if empty"
    )
    brand_accent_color_dark: str = Field(
        "", description="#rrggbb of the brand bar in the dark scheme; the accent if empty"
    )
    support_url: str = Field("", max_length=2048)
    terms_url: str = Field("", max_length=2048)
    privacy_url: str = Field("", max_length=2048)
    templates_dir: Path | None = Field(
        None, description="templates here replace the built-in ones of the same name"
    )

    # Fetches of URLs other parties control (client jwks_uri): see provider/net/outbound.py.
    outbound_allow_private: bool = Field(
        False, description="dev only: let private/loopback addresses be fetched"
    )
    outbound_ca_file: Path | None = Field(
        None, description="extra CA bundle trusted for outbound https (a private or test CA)"
    )

    # Clients that register themselves: dynamic registration (RFC 7591) and client ID metadata
    # documents. See provider/oauth/registration_policy.py.
    org_name: str = Field(
        "",
        max_length=100,
        description="who vouches for clients (default: PRODUCT_NAME if set, else the issuer host)",
    )
    registration_open: bool = Field(
        False, description="anyone may register a client, without an initial access token"
    )
    registration_grant_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["authorization_code", "refresh_token"]
    )
    registration_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["openid", "profile", "email", "offline_access"]
    )
    registration_public_only: bool = Field(
        False, description="self-registered clients must be public (no secret)"
    )
    registration_redirect_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="https redirect hosts allowed ('.example.com' for subdomains); empty: any",
    )
    registration_allow_native: bool = Field(
        True, description="loopback and private-use scheme redirect URIs (RFC 8252)"
    )
    ratelimit_registration_per_ip: int = Field(10, ge=1, description="registrations per IP/hour")
    initial_access_token_ttl: int = Field(7 * 86_400, ge=60, le=365 * 86_400)
    client_id_metadata_documents: bool = Field(
        True, description="an https client_id names the client's metadata document"
    )

    @model_validator(mode="before")
    @classmethod
    def _issuer_follows_port(cls, data: object) -> object:
        """Without PROVIDER_ISSUER, the issuer is this machine at the port the service binds."""
        if isinstance(data, dict) and not data.get("issuer"):
            return {**data, "issuer": f"http://127.0.0.1:{data.get('port') or 8000}"}
        return data

    @field_validator("issuer")
    @classmethod
    def _issuer_is_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment (OIDC Discovery §3)")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_is_supported(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value.replace("postgresql://", "postgres://", 1)

    @field_validator("redis_url")
    @classmethod
    def _redis_is_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be empty or start with redis://, rediss:// or unix://")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_is_url(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if not text:
            return value
        parts = urlsplit(text)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must be empty or smtp://host[:port] or smtps://host[:port]")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ValueError("has an invalid port") from exc
        starttls = parse_qs(parts.query).get("starttls", ["false"])
        if len(starttls) != 1 or starttls[0].lower() not in ("true", "false"):
            raise ValueError("starttls must be true or false")
        if parts.scheme == "smtps" and starttls[0].lower() == "true":
            raise ValueError("smtps:// is implicit TLS; starttls=true applies to smtp:// only")
        return value

    @field_validator(
        "brand_primary_color",
        "brand_accent_color",
        "brand_primary_color_dark",
        "brand_accent_color_dark",
    )
    @classmethod
    def _color_is_hex(cls, value: str) -> str:
        if value and not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("must be a colour written #rrggbb, e.g. #0b5cad")
        return value.lower()

    @field_validator("brand_primary_color")
    @classmethod
    def _primary_color_is_readable(cls, value: str) -> str:
        # WCAG 2.2 SC 1.4.3: white button text on it, and links in it on white, need 4.5:1.
        if value and contrast_with_white(value) < 4.5:
            raise ValueError("is too light: white text on it needs a contrast of 4.5:1 (WCAG)")
        return value

    @field_validator("brand_primary_color_dark")
    @classmethod
    def _dark_primary_color_is_readable(cls, value: str) -> str:
        # WCAG 2.2 SC 1.4.3: links in it on the dark card, and the buttons' dark text on it,
        # need 4.5:1.
        if value and contrast(value, DARK_CARD) < 4.5:
            raise ValueError(
                f"is too dark: on the dark scheme's card ({DARK_CARD}) it needs a contrast of "
                "4.5:1 (WCAG)"
            )
        return value

    @field_validator("support_url", "terms_url", "privacy_url")
    @classmethod
    def _link_is_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https", "mailto") or "\n" in value):
            raise ValueError("must be an http(s) or mailto: URL")
        return value

    @field_validator("brand_logo")
    @classmethod
    def _logo_is_file_or_https(cls, value: str) -> str:
        if not value or value.startswith("https://"):
            return value
        if "://" in value:
            raise ValueError("must be an https:// URL or the path of an image file")
        if Path(value).suffix.lower() not in LOGO_TYPES:
            raise ValueError("must be a .png, .jpg, .jpeg, .gif, .svg or .webp file")
        if not Path(value).is_file():
            raise ValueError("names no file")
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from_is_address(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1] or "\n" in value or "\r" in value:
            raise ValueError("must be an address, e.g. 'Provider <no-reply@example.com>'")
        return value

    @field_validator(
        "cors_origins",
        "registration_grant_types",
        "registration_scopes",
        "registration_redirect_hosts",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        """A JSON list or a comma-separated list, as PROVIDER_CORS_ORIGINS may be written."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _production_refuses_dev_defaults(self) -> Settings:
        if self.session_idle_ttl > self.session_absolute_ttl:
            raise ValueError("session_idle_ttl must not exceed session_absolute_ttl")
        if self.env != "prod":
            return self
        if self.secret_key is None or self.secret_key.get_secret_value() == DEV_SECRET_KEY:
            raise ValueError("PROVIDER_SECRET_KEY is required when PROVIDER_ENV=prod")
        if len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("PROVIDER_SECRET_KEY must be at least 32 characters in prod")
        if self.outbound_allow_private:
            raise ValueError("PROVIDER_OUTBOUND_ALLOW_PRIVATE is for development, not prod")
        parts = urlsplit(self.issuer)
        if parts.scheme != "https" and not _is_local_host(parts.hostname or ""):
            raise ValueError("PROVIDER_ISSUER must be https in prod (unless it is localhost)")
        return self

    @cached_property
    def secret(self) -> bytes:
        value = self.secret_key.get_secret_value() if self.secret_key else DEV_SECRET_KEY
        return value.encode()

    @property
    def totp_label(self) -> str:
        """The issuer name authenticator apps show next to the account."""
        return self.totp_issuer or urlsplit(self.issuer).hostname or "provider"

    @property
    def org_label(self) -> str:
        """Who the consent page says has not verified a self-registered client.

        ORG_NAME when set, else the PRODUCT_NAME the pages carry if it was set, else the host.
        """
        if self.org_name:
            return self.org_name
        if "product_name" in self.model_fields_set:
            return self.product_name
        return urlsplit(self.issuer).hostname or "this provider"

    @property
    def logo_url(self) -> str:
        """Where the pages and mails find the logo: the URL, or the file as served here."""
        if self.brand_logo.startswith("https://"):
            return self.brand_logo
        return f"{self.issuer}/branding/logo" if self.brand_logo else ""

    @property
    def primary_color_dark(self) -> str:
        """The dark scheme's primary colour: the setting, else derived from the primary."""
        if self.brand_primary_color_dark or not self.brand_primary_color:
            return self.brand_primary_color_dark
        return for_dark_scheme(self.brand_primary_color)

    @property
    def brand(self) -> dict[str, str]:
        """What every page and mail shows of the organisation (README "Branding")."""
        return {
            "product_name": self.product_name,
            "logo_url": self.logo_url,
            "primary_color": self.brand_primary_color,
            "accent_color": self.brand_accent_color,
            "primary_color_dark": self.primary_color_dark,
            "accent_color_dark": self.brand_accent_color_dark,
            "support_url": self.support_url,
            "terms_url": self.terms_url,
            "privacy_url": self.privacy_url,
        }

    @property
    def api_audience(self) -> str:
        """The `aud` of first-party tokens: the account and admin APIs, never an OAuth client."""
        return self.issuer + "/v1"

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format == "auto" and self.env == "prod")
