"""The plain rules of upstream providers: valid configurations and presets, the endpoints that
may be called, the claims of an ID token, GitHub's primary email, the sealed client secret."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from provider.config import Settings
from provider.domain_errors import ValidationFailed
from provider.federation.errors import InvalidUpstreamToken
from provider.federation.id_tokens import check_claims
from provider.federation.presets import PRESETS
from provider.federation.providers import (
    ProviderSpec,
    problems_of,
    seal_client_secret,
    spec_from_preset,
    unseal_client_secret,
)
from provider.federation.upstream import _primary_email
from provider.net.guarded_http import check_endpoint
from provider.net.outbound import OutboundRefused
from provider.storage.models import IdentityProvider

NOW = time.time()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_a_valid_provider(preset: str) -> None:
    spec = spec_from_preset(preset, client_id="id", client_secret="secret")
    assert problems_of(spec) == {}
    assert spec.slug == preset


def test_presets_speak_the_right_dialect() -> None:
    assert {name: p.kind for name, p in PRESETS.items()} == {
        "google": "oidc",
        "microsoft": "oidc",
        "gitlab": "oidc",
        "github": "oauth2",
    }
    assert PRESETS["microsoft"].issuer == "https://login.microsoftonline.com/common/v2.0"
    assert PRESETS["github"].emails_url == "https://api.github.com/user/emails"


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        spec_from_preset("myspace")
    assert "preset" in refused.value.problems


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "link"}, "slug"),
        ({"name": ""}, "name"),
        ({"kind": "saml"}, "kind"),
        ({"issuer": ""}, "issuer"),
        ({"issuer": "ftp://up.example"}, "issuer"),
        ({"scopes": ["email"]}, "scopes"),
        ({"scopes": ["bad scope"]}, "scopes"),
        ({"client_secret": "x" * 600}, "client_secret"),
    ],
)
def test_an_oidc_provider_needs_its_fields(change: dict[str, Any], field: str) -> None:
    spec = ProviderSpec(
        slug="up", name="Up", kind="oidc", issuer="https://up.example", scopes=["openid"]
    )
    assert problems_of(spec) == {}
    assert field in problems_of(replace(spec, **change))


def test_an_oauth2_provider_needs_endpoints_and_a_subject_mapping() -> None:
    spec = spec_from_preset("github")
    assert problems_of(replace(spec, token_url="")) == {
        "token_url": ["is required for kind oauth2"]
    }
    assert "claims" in problems_of(replace(spec, claims={"email": "email"}))
    assert "claims" in problems_of(replace(spec, claims={"sub": "id", "role": "admin"}))


@pytest.mark.parametrize(
    ("url", "allow_private"),
    [
        ("https://accounts.google.com/token", False),
        ("http://127.0.0.1:8000/token", True),
        ("http://localhost:8000/token", True),
        ("http://[::1]:8000/token", True),
    ],
)
def test_endpoints_that_may_be_called(url: str, allow_private: bool) -> None:
    check_endpoint(url, allow_private)


@pytest.mark.parametrize(
    ("url", "allow_private"),
    [
        ("http://accounts.google.com/token", False),
        ("http://accounts.google.com/token", True),
        ("http://127.0.0.1:8000/token", False),
        ("https://10.0.0.1/token", False),
        ("https://user:pass@up.example/token", False),
        ("http://user:pass@127.0.0.1/token", True),
        ("file:///etc/passwd", True),
    ],
)
def test_endpoints_that_are_refused(url: str, allow_private: bool) -> None:
    with pytest.raises(OutboundRefused):
        check_endpoint(url, allow_private)


def _claims(**over: Any) -> dict[str, Any]:
    claims = {
        "iss": "https://up.example",
        "sub": "u1",
        "aud": "rp",
        "exp": NOW + 60,
        "iat": NOW,
        "nonce": "n",
    }
    return {k: v for k, v in {**claims, **over}.items() if v is not None}


def _check(claims: dict[str, Any], issuer: str = "https://up.example") -> None:
    check_claims(claims, issuer=issuer, client_id="rp", nonce="n", now=NOW)


def test_valid_claims_pass() -> None:
    _check(_claims())
    _check(_claims(aud=["rp", "other"], azp="rp"))
    _check(_claims(exp=NOW - 30))  # within the leeway for clock skew


@pytest.mark.parametrize(
    "claims",
    [
        _claims(iss="https://other.example"),
        _claims(aud="other"),
        _claims(aud=["rp", "other"]),
        _claims(azp="other"),
        _claims(exp=NOW - 120),
        _claims(exp=None),
        _claims(exp=True),
        _claims(iat=NOW + 3600),
        _claims(nonce="other"),
        _claims(nonce=None),
        _claims(sub=None),
        _claims(sub=""),
    ],
)
def test_invalid_claims_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(InvalidUpstreamToken):
        _check(claims)


def test_a_microsoft_tenant_fills_in_the_issuer_template() -> None:
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    _check(_claims(iss=f"https://login.microsoftonline.com/{tenant}/v2.0", tid=tenant), template)
    with pytest.raises(InvalidUpstreamToken):
        _check(
            _claims(iss=f"https://login.microsoftonline.com/{tenant}/v2.0", tid="other"), template
        )
    with pytest.raises(InvalidUpstreamToken):
        _check(_claims(iss="https://login.microsoftonline.com/x/v2.0"), template)


def test_github_primary_email() -> None:
    emails = [
        {"email": "old@example.com", "primary": False, "verified": True},
        {"email": "ada@example.com", "primary": True, "verified": False},
    ]
    assert _primary_email(emails) == ("ada@example.com", False)
    emails[1]["verified"] = True
    assert _primary_email(emails) == ("ada@example.com", True)
    assert _primary_email({"message": "Bad credentials"}) == (None, False)
    assert _primary_email([]) == (None, False)


def test_the_client_secret_is_sealed_to_its_provider() -> None:
    settings = Settings()
    sealed = seal_client_secret(settings, "google", "s3cret")
    assert sealed.startswith("v1.")
    assert "s3cret" not in sealed
    row = IdentityProvider(slug="google", client_secret_sealed=sealed)
    assert unseal_client_secret(settings, row) == "s3cret"
    moved = IdentityProvider(slug="gitlab", client_secret_sealed=sealed)
    with pytest.raises(RuntimeError, match="cannot be unsealed"):
        unseal_client_secret(settings, moved)
    assert seal_client_secret(settings, "google", "") == ""
