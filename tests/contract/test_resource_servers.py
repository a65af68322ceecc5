"""ResourceServers contract: identifiers are matched exactly, rows are found by id, listed by
identifier, changed and removed."""

from __future__ import annotations

import uuid

from provider.storage.db import default_connection
from provider.storage.models import ResourceServer
from provider.storage.resources import MAX_IDENTIFIER_LENGTH, ResourceServers


async def _add(identifier: str, **fields: object) -> ResourceServer:
    return await ResourceServers(default_connection()).add(
        identifier=identifier, name=f"API {identifier}", scopes=["read"], **fields
    )


async def test_identifiers_are_matched_exactly(backend: str) -> None:
    await _add("https://api.example/")
    await _add("https://other.example")
    store = ResourceServers(default_connection())
    found = await store.by_identifiers(
        [
            "https://api.example/",
            "https://api.example",
            "HTTPS://OTHER.EXAMPLE",
            "x" * 600,
            "",
            "https://other.example\x00",
        ]
    )
    assert list(found) == ["https://api.example/"]
    assert found["https://api.example/"].scopes == ["read"]
    assert await store.by_identifiers([]) == {}


async def test_a_row_keeps_its_settings(backend: str) -> None:
    added = await _add(
        "https://api.example",
        access_token_ttl=120,
        signing_alg="ES256",
        allowed_clients=["app"],
    )
    found = await ResourceServers(default_connection()).find(str(added.id))
    assert found is not None
    assert (found.access_token_ttl, found.signing_alg, found.allowed_clients) == (
        120,
        "ES256",
        ["app"],
    )
    any_client = await _add("https://open.example")
    assert any_client.allowed_clients is None
    assert any_client.signing_alg == "RS256"


async def test_ids_that_are_not_rows_are_unknown(backend: str) -> None:
    await _add("https://api.example")
    store = ResourceServers(default_connection())
    for presented in ("", "not-a-uuid", str(uuid.uuid4()), "x\x00"):
        assert await store.find(presented) is None
    assert MAX_IDENTIFIER_LENGTH == 512


async def test_listing_changing_and_removing(backend: str) -> None:
    second = await _add("https://b.example")
    await _add("https://a.example")
    store = ResourceServers(default_connection())
    assert [r.identifier for r in await store.everyone()] == [
        "https://a.example",
        "https://b.example",
    ]
    assert await store.identifier_taken("https://b.example")
    assert not await store.identifier_taken("https://c.example")
    second.scopes = ["read", "write"]
    await store.save(second, fields=["scopes"])
    found = await store.find(str(second.id))
    assert found is not None
    assert found.scopes == ["read", "write"]
    assert await store.remove(second)
    assert not await store.remove(second)
    assert [r.identifier for r in await store.everyone()] == ["https://a.example"]
