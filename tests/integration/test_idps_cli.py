"""`python -m provider idps add|list|update|remove`: the same rules as the admin API."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider.config import DEV_SECRET_KEY
from provider.crypto.sealing import unseal
from provider.federation.providers import SEALING_PURPOSE
from provider.storage.models import AuditEvent, IdentityProvider
from tests.cli_run import command_runner


@pytest.fixture
def cli(database: str, clean: None, tmp_path: Path):  # type: ignore[no-untyped-def]
    return command_runner("idps", database, tmp_path)


async def test_add_from_a_preset_with_the_secret_on_stdin(cli) -> None:  # type: ignore[no-untyped-def]
    added = await cli(
        "add",
        "--preset",
        "github",
        "--client-id",
        "gh-id",
        "--client-secret-stdin",
        "--allow-signup",
        "--json",
        stdin="gh-secret\n",
    )
    idp = added.json()
    assert (idp["slug"], idp["kind"], idp["client_id"]) == ("github", "oauth2", "gh-id")
    assert idp["has_client_secret"] is True
    assert idp["allow_signup"] is True
    assert idp["trust_email"] is False
    assert "gh-secret" not in added.stdout
    row = await IdentityProvider.get(slug="github")
    opened = unseal(
        DEV_SECRET_KEY.encode(), row.client_secret_sealed, purpose=SEALING_PURPOSE, context="github"
    )
    assert opened == "gh-secret"
    audit = await AuditEvent.get(event="idp.created")
    assert audit.ip == "cli"


async def test_add_in_full_update_list_and_remove(cli) -> None:  # type: ignore[no-untyped-def]
    added = await cli(
        "add",
        "--slug",
        "corp",
        "--name",
        "Corp SSO",
        "--kind",
        "oidc",
        "--issuer",
        "https://sso.corp.example",
        "--scope",
        "openid",
        "--scope",
        "email",
        "--client-id",
        "cid",
        "--json",
    )
    assert added.json()["scopes"] == ["openid", "email"]
    updated = await cli("update", "corp", "--no-enabled", "--trust-email", "--json")
    assert updated.json()["enabled"] is False
    assert updated.json()["trust_email"] is True
    assert updated.json()["issuer"] == "https://sso.corp.example"
    listed = await cli("list", "--json")
    assert [(i["slug"], i["offered"]) for i in listed.json()] == [("corp", False)]
    plain = await cli("list")
    assert plain.code == 0
    assert "corp" in plain.stdout
    assert "not offered" in plain.stdout
    removed = await cli("remove", "corp")
    assert removed.code == 0, removed.stderr
    assert not await IdentityProvider.exists(slug="corp")


async def test_bad_input_exits_with_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    missing = await cli("add", "--slug", "corp", "--kind", "oidc")
    assert missing.code == 2
    assert missing.stderr.startswith("provider: Some fields are not acceptable.")
    assert "issuer" in missing.stderr
    assert "name" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    bad_claim = await cli("add", "--preset", "github", "--claim", "sub")
    assert bad_claim.code == 2
    assert "CLAIM=FIELD" in bad_claim.stderr
    await cli("add", "--preset", "google")
    taken = await cli("add", "--preset", "google")
    assert taken.code == 2
    assert "exists" in taken.stderr
    unknown = await cli("remove", "nope")
    assert unknown.code == 2
    assert "No such identity provider" in unknown.stderr
    assert await IdentityProvider.all().count() == 1
