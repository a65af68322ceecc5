"""Upstream providers as configuration: the rules of a valid one, and the admin use cases.

The CLI, the admin API and the admin pages all go through `add_provider`, `update_provider` and
`remove_provider`: one validation, one place that seals the client secret (AES-256-GCM under
PROVIDER_SECRET_KEY with the slug as associated data, as TOTP secrets are sealed with the user
id), and an audit row for each change. A provider whose client id is empty is kept but never
offered on the sign-in pages.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from provider.cache.events import EventPublisher
from provider.config import Settings
from provider.context import Caller
from provider.crypto.sealing import SealError, seal, unseal
from provider.domain_errors import Phrase, ValidationFailed
from provider.federation.errors import ProviderSlugTaken, UnknownProvider
from provider.federation.presets import PRESETS
from provider.storage.db import default_connection
from provider.storage.federation import IdentityProviders
from provider.storage.models import IdentityProvider
from provider.storage.unit_of_work import unit_of_work

SEALING_PURPOSE = "idp-client-secret"
KINDS = ("oidc", "oauth2")
CLAIMS = ("sub", "email", "email_verified", "name")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # RFC 6749 §3.3 scope-token
# Paths of the hosted pages that sit where a provider's would (/login/idp/link).
RESERVED_SLUGS = ("link",)
URL_FIELDS = ("issuer", "authorize_url", "token_url", "userinfo_url", "emails_url")


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Everything an administrator sets; `client_secret` in clear, only on its way in."""

    slug: str
    name: str
    kind: str
    client_id: str = ""
    client_secret: str | None = None
    scopes: list[str] = field(default_factory=list)
    issuer: str = ""
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    emails_url: str = ""
    claims: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    allow_signup: bool = False
    trust_email: bool = False


@dataclass(frozen=True, slots=True)
class ProviderView:
    """A provider as shown to administrators: never its secret, only whether it has one."""

    slug: str
    name: str
    kind: str
    client_id: str
    has_client_secret: bool
    scopes: list[str]
    issuer: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    emails_url: str
    claims: dict[str, str]
    enabled: bool
    allow_signup: bool
    trust_email: bool
    offered: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Upstream:
    """A provider as the sign-in needs it, its client secret unsealed."""

    slug: str
    name: str
    kind: str
    client_id: str
    client_secret: str
    scopes: list[str]
    issuer: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    emails_url: str
    claims: dict[str, str]
    allow_signup: bool
    trust_email: bool


def spec_from_preset(preset: str, **values: Any) -> ProviderSpec:
    """A preset's settings under `values` (slug defaults to the preset's name)."""
    known = PRESETS.get(preset)
    if known is None:
        raise ValidationFailed(
            {"preset": [Phrase("must be one of %(choices)s", choices=", ".join(sorted(PRESETS)))]}
        )
    base: dict[str, Any] = {
        "slug": preset,
        "name": known.name,
        "kind": known.kind,
        "scopes": list(known.scopes),
        "issuer": known.issuer,
        "authorize_url": known.authorize_url,
        "token_url": known.token_url,
        "userinfo_url": known.userinfo_url,
        "emails_url": known.emails_url,
        "claims": dict(known.claims),
    }
    return ProviderSpec(**{**base, **{k: v for k, v in values.items() if v is not None}})


def _url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        return "must be an https URL (http only for a loopback host in development)"
    if len(value) > 2048:
        return "must be at most 2048 characters"
    return None


def _storable(text: str) -> bool:
    """Text a database can take: no NUL, no unpaired surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def redirect_uri(issuer: str, slug: str) -> str:
    """The callback to register at the upstream provider."""
    return f"{issuer}/login/idp/{slug}/callback"


def is_slug(text: str) -> bool:
    return _SLUG.match(text) is not None


def _slug_or_unknown(slug: str) -> str:
    """A slug that could name a provider; anything else names none (and reaches no query)."""
    if not is_slug(slug):
        raise UnknownProvider()
    return slug


def problems_of(spec: ProviderSpec) -> dict[str, list[str]]:
    """Each field that is not acceptable, with its reasons."""
    problems: dict[str, list[str]] = {}

    def refuse(name: str, reason: str) -> None:
        problems.setdefault(name, []).append(reason)

    for name in ("name", "client_id", "client_secret", *URL_FIELDS):
        value = getattr(spec, name)
        if isinstance(value, str) and not _storable(value):
            refuse(name, "must be valid text")
    claim_text = [*spec.claims, *spec.claims.values()]
    if not all(isinstance(text, str) and _storable(text) for text in claim_text):
        refuse("claims", "must be valid text")

    if not _SLUG.match(spec.slug) or spec.slug in RESERVED_SLUGS:
        refuse("slug", "must be 1-32 lowercase letters, digits or '-', not starting with '-'")
    if not 1 <= len(spec.name.strip()) <= 100:
        refuse("name", "must be 1-100 characters")
    if spec.kind not in KINDS:
        refuse("kind", Phrase("must be one of %(choices)s", choices=", ".join(KINDS)))
    if len(spec.client_id) > 256:
        refuse("client_id", "must be at most 256 characters")
    if spec.client_secret is not None and len(spec.client_secret) > 512:
        refuse("client_secret", "must be at most 512 characters")
    if len(spec.scopes) > 32 or not all(_SCOPE.match(scope) for scope in spec.scopes):
        refuse("scopes", "must be at most 32 scope tokens")
    required = (
        ("issuer",) if spec.kind == "oidc" else ("authorize_url", "token_url", "userinfo_url")
    )
    for name in URL_FIELDS:
        value = getattr(spec, name)
        if not value:
            if name in required:
                refuse(name, Phrase("is required for kind %(kind)s", kind=spec.kind))
            continue
        reason = _url_problem(value)
        if reason:
            refuse(name, reason)
    if spec.kind == "oidc" and "openid" not in spec.scopes:
        refuse("scopes", "must contain openid for kind oidc")
    if spec.kind == "oauth2":
        unknown = set(spec.claims) - set(CLAIMS)
        if unknown:
            refuse("claims", Phrase("may only map %(claims)s", claims=", ".join(CLAIMS)))
        if not spec.claims.get("sub"):
            refuse("claims", "must map sub (the upstream's stable user id)")
        if not all(isinstance(v, str) and 0 < len(v) <= 64 for v in spec.claims.values()):
            refuse("claims", "must map each claim to a field name")
    return problems


def _validated(spec: ProviderSpec) -> ProviderSpec:
    cleaned = replace(spec, name=spec.name.strip(), scopes=list(dict.fromkeys(spec.scopes)))
    problems = problems_of(cleaned)
    if problems:
        raise ValidationFailed(problems)
    return cleaned


def seal_client_secret(settings: Settings, slug: str, secret: str) -> str:
    return seal(settings.secret, secret, purpose=SEALING_PURPOSE, context=slug) if secret else ""


def unseal_client_secret(settings: Settings, row: IdentityProvider) -> str:
    if not row.client_secret_sealed:
        return ""
    try:
        return unseal(
            settings.secret, row.client_secret_sealed, purpose=SEALING_PURPOSE, context=row.slug
        )
    except SealError as exc:
        raise RuntimeError(
            f"the client secret of identity provider {row.slug!r} cannot be unsealed; "
            "was PROVIDER_SECRET_KEY changed?"
        ) from exc


def _columns(settings: Settings, spec: ProviderSpec) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "client_id": spec.client_id,
        "scopes": spec.scopes,
        "claims": spec.claims if spec.kind == "oauth2" else {},
        "enabled": spec.enabled,
        "allow_signup": spec.allow_signup,
        "trust_email": spec.trust_email,
        **{name: getattr(spec, name) for name in URL_FIELDS},
    }
    if spec.client_secret is not None:
        columns["client_secret_sealed"] = seal_client_secret(
            settings, spec.slug, spec.client_secret
        )
    return columns


def view_of(row: IdentityProvider) -> ProviderView:
    return ProviderView(
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        client_id=row.client_id,
        has_client_secret=bool(row.client_secret_sealed),
        scopes=list(row.scopes),
        issuer=row.issuer,
        authorize_url=row.authorize_url,
        token_url=row.token_url,
        userinfo_url=row.userinfo_url,
        emails_url=row.emails_url,
        claims=dict(row.claims),
        enabled=row.enabled,
        allow_signup=row.allow_signup,
        trust_email=row.trust_email,
        offered=row.enabled and bool(row.client_id),
    )


def upstream_of(settings: Settings, row: IdentityProvider) -> Upstream:
    return Upstream(
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        client_id=row.client_id,
        client_secret=unseal_client_secret(settings, row),
        scopes=list(row.scopes),
        issuer=row.issuer,
        authorize_url=row.authorize_url,
        token_url=row.token_url,
        userinfo_url=row.userinfo_url,
        emails_url=row.emails_url,
        claims=dict(row.claims),
        allow_signup=row.allow_signup,
        trust_email=row.trust_email,
    )


def _spec_of(row: IdentityProvider) -> ProviderSpec:
    return ProviderSpec(
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        client_id=row.client_id,
        scopes=list(row.scopes),
        claims=dict(row.claims),
        enabled=row.enabled,
        allow_signup=row.allow_signup,
        trust_email=row.trust_email,
        **{name: getattr(row, name) for name in URL_FIELDS},
    )


async def list_providers() -> list[ProviderView]:
    return [view_of(row) for row in await IdentityProviders(default_connection()).all()]


async def get_provider(slug: str) -> ProviderView:
    row = await IdentityProviders(default_connection()).get(_slug_or_unknown(slug))
    if row is None:
        raise UnknownProvider()
    return view_of(row)


async def offered_providers() -> list[ProviderView]:
    """The buttons of the sign-in and registration pages."""
    return [view_of(row) for row in await IdentityProviders(default_connection()).offered()]


async def offered_upstream(settings: Settings, slug: str) -> Upstream:
    """An offered provider, ready to talk to; UnknownProvider for any other slug."""
    row = await IdentityProviders(default_connection()).get(_slug_or_unknown(slug))
    if row is None or not row.enabled or not row.client_id:
        raise UnknownProvider()
    return upstream_of(settings, row)


async def add_provider(
    settings: Settings,
    events: EventPublisher,
    caller: Caller,
    spec: ProviderSpec,
    *,
    actor_id: str | None,
) -> ProviderView:
    spec = _validated(spec)
    async with unit_of_work(caller, events) as work:
        row = await IdentityProviders(work.conn).add(spec.slug, _columns(settings, spec))
        if row is None:
            raise ProviderSlugTaken()
        await work.audit("idp.created", details={"idp": spec.slug, "admin_id": actor_id})
    return view_of(row)


async def update_provider(
    settings: Settings,
    events: EventPublisher,
    caller: Caller,
    slug: str,
    changes: dict[str, Any],
    *,
    actor_id: str | None,
) -> ProviderView:
    """Apply `changes` (ProviderSpec fields but the slug; a None value keeps the current one)."""
    async with unit_of_work(caller, events) as work:
        store = IdentityProviders(work.conn)
        row = await store.get(_slug_or_unknown(slug))
        if row is None:
            raise UnknownProvider()
        given = {k: v for k, v in changes.items() if v is not None and k != "slug"}
        spec = _validated(replace(_spec_of(row), **given))
        columns = _columns(settings, spec)
        updated = await store.update(slug, columns)
        assert updated is not None
        await work.audit(
            "idp.updated", details={"idp": slug, "admin_id": actor_id, "fields": sorted(given)}
        )
    return view_of(updated)


async def remove_provider(
    events: EventPublisher, caller: Caller, slug: str, *, actor_id: str | None
) -> None:
    """Delete the provider and every link to it; its users keep their other ways in."""
    async with unit_of_work(caller, events) as work:
        if not await IdentityProviders(work.conn).remove(_slug_or_unknown(slug)):
            raise UnknownProvider()
        await work.audit("idp.deleted", details={"idp": slug, "admin_id": actor_id})
