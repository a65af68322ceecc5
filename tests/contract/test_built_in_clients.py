"""BuiltInClients contract: `put` makes exactly one row say what the registration says, writes
nothing when it already does, and survives every worker of every instance calling it at once."""

from __future__ import annotations

import asyncio

from provider.config import Settings
from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID, registration
from provider.storage.built_in_clients import BuiltInClients
from provider.storage.db import default_connection
from provider.storage.models import Client

SETTINGS = Settings(issuer="https://id.example.com")


async def test_put_creates_the_row_of_the_registration(backend: str) -> None:
    row = await BuiltInClients(default_connection()).put(registration(SETTINGS))
    stored = await Client.get(id=FIRST_PARTY_CLIENT_ID)
    for found in (row, stored):
        assert found.first_party is True
        assert found.audience == "https://id.example.com/v1"
        assert found.public is True
        assert found.token_endpoint_auth_method == "none"
        assert found.secret_hash is None
        assert (found.redirect_uris, found.grant_types, found.scopes) == ([], [], [])
        assert found.disabled is False


async def test_a_matching_row_is_left_alone(backend: str) -> None:
    store = BuiltInClients(default_connection())
    first = await store.put(registration(SETTINGS))
    again = await store.put(registration(SETTINGS))
    assert again.updated_at == first.updated_at
    assert (await Client.get(id=FIRST_PARTY_CLIENT_ID)).updated_at == first.updated_at
    assert await Client.filter(id=FIRST_PARTY_CLIENT_ID).count() == 1


async def test_a_row_changed_by_hand_is_put_back(backend: str) -> None:
    store = BuiltInClients(default_connection())
    await store.put(registration(SETTINGS))
    await Client.filter(id=FIRST_PARTY_CLIENT_ID).update(
        audience="https://elsewhere.example",
        disabled=True,
        secret_hash="f" * 64,
        grant_types=["authorization_code"],
        redirect_uris=["https://evil.example/cb"],
    )
    row = await store.put(registration(SETTINGS))
    stored = await Client.get(id=FIRST_PARTY_CLIENT_ID)
    for found in (row, stored):
        assert found.audience == "https://id.example.com/v1"
        assert found.disabled is False
        assert found.secret_hash is None
        assert (found.grant_types, found.redirect_uris) == ([], [])


async def test_new_settings_move_the_audience(backend: str) -> None:
    store = BuiltInClients(default_connection())
    await store.put(registration(SETTINGS))
    moved = await store.put(registration(Settings(issuer="https://login.example.org")))
    assert moved.audience == "https://login.example.org/v1"
    assert (await Client.get(id=FIRST_PARTY_CLIENT_ID)).audience == moved.audience


async def test_concurrent_puts_make_one_row(backend: str) -> None:
    rows = await asyncio.gather(
        *(BuiltInClients(default_connection()).put(registration(SETTINGS)) for _ in range(8))
    )
    assert {row.id for row in rows} == {FIRST_PARTY_CLIENT_ID}
    assert await Client.filter(id=FIRST_PARTY_CLIENT_ID).count() == 1
