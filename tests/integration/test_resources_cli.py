"""`python -m provider resources add|list|update|remove`: the rules and audit of the admin API."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider.storage.models import AuditEvent, ResourceServer
from tests.cli_run import command_runner
from tests.oidc import register_client

API = "https://api.example.com/orders"


@pytest.fixture
def cli(database: str, clean: None, tmp_path: Path):  # type: ignore[no-untyped-def]
    return command_runner("resources", database, tmp_path)


async def test_register_change_list_and_remove(cli) -> None:  # type: ignore[no-untyped-def]
    rp = await register_client()
    added = await cli(
        "add", API, "--name", "Orders", "--scope", "orders.read", "--alg", "ES256", "--json"
    )
    shown = added.json()
    assert (shown["identifier"], shown["name"], shown["scopes"], shown["signing_alg"]) == (
        API,
        "Orders",
        ["orders.read"],
        "ES256",
    )
    assert shown["allowed_clients"] is None

    changed = await cli("update", API, "--allowed-client", rp.client_id, "--ttl", "120", "--json")
    assert (changed.json()["allowed_clients"], changed.json()["access_token_ttl"]) == (
        [rp.client_id],
        120,
    )
    listed = await cli("list", "--json")
    assert [row["identifier"] for row in listed.json()] == [API]

    removed = await cli("remove", API, "--json")
    assert removed.json() == {"deleted": API}
    assert await ResourceServer.all().count() == 0
    events = await AuditEvent.filter(event__startswith="admin.resource_").order_by("id")
    assert [e.event for e in events] == [
        "admin.resource_created",
        "admin.resource_updated",
        "admin.resource_deleted",
    ]


async def test_refusals_exit_with_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    bad = await cli("add", "https://api.example.com/#x", "--name", "Orders")
    assert bad.code == 2
    assert "identifier" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    unknown = await cli("remove", "https://nothing.example")
    assert unknown.code == 2
    assert "No such resource server" in unknown.stderr
