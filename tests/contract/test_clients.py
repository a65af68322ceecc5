"""Clients contract: the one lookup rule (ids no client can have, disabled and deleted clients),
keyset pages that registrations made meanwhile do not shift, and the writes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from provider.storage.clients import MAX_CLIENT_ID_LENGTH, Clients
from provider.storage.db import default_connection
from provider.storage.models import Client
from provider.storage.unit_of_work import utcnow

BASE = utcnow().replace(microsecond=0)


async def _add(client_id: str, *, disabled: bool = False, seconds: int = 0) -> Client:
    return await Clients(default_connection()).add(
        id=client_id,
        name=f"App {client_id}",
        redirect_uris=["https://rp.example/cb"],
        grant_types=["authorization_code"],
        scopes=["openid"],
        disabled=disabled,
        created_at=BASE + timedelta(seconds=seconds),
    )


async def test_find_returns_the_stored_client(backend: str) -> None:
    await _add("app")
    found = await Clients(default_connection()).find("app")
    assert found is not None
    assert (found.id, found.name, found.redirect_uris) == (
        "app",
        "App app",
        ["https://rp.example/cb"],
    )
    assert found.disabled is False


async def test_ids_no_client_can_have_are_unknown(backend: str) -> None:
    await _add("app")
    clients = Clients(default_connection())
    for presented in (None, "", "app\x00", "a\x00pp", "app\n", "x" * (MAX_CLIENT_ID_LENGTH + 1)):
        assert await clients.find(presented) is None
        assert await clients.find(presented, include_disabled=True) is None
    assert await clients.find("unknown") is None


async def test_a_disabled_client_is_found_only_when_asked_for(backend: str) -> None:
    await _add("off", disabled=True)
    clients = Clients(default_connection())
    assert await clients.find("off") is None
    found = await clients.find("off", include_disabled=True)
    assert found is not None
    assert (found.id, found.disabled) == ("off", True)


async def test_a_deleted_client_is_gone_for_every_caller(backend: str) -> None:
    await _add("doomed")
    await _add("kept")
    clients = Clients(default_connection())
    assert await clients.remove("doomed") is True
    assert await clients.find("doomed") is None
    assert await clients.find("doomed", include_disabled=True) is None
    assert await clients.remove("doomed") is False
    assert await clients.find("kept") is not None


async def test_save_writes_changes_and_only_the_named_fields(backend: str) -> None:
    client = await _add("app")
    clients = Clients(default_connection())
    client.name = "Renamed"
    await clients.save(client)
    assert (await Client.get(id="app")).name == "Renamed"
    client.name = "Not written"
    client.disabled = True
    await clients.save(client, fields=["disabled"])
    row = await Client.get(id="app")
    assert (row.name, row.disabled) == ("Renamed", True)


async def test_pages_go_oldest_first_and_ties_by_id(backend: str) -> None:
    for client_id, seconds in (("c", 1), ("a", 1), ("b", 0), ("d", 2)):
        await _add(client_id, seconds=seconds)
    clients = Clients(default_connection())
    first, more = await clients.page(after=None, limit=2)
    assert ([c.id for c in first], more) == (["b", "a"], True)
    last = first[-1]
    second, more = await clients.page(after=(last.created_at, last.id), limit=2)
    assert ([c.id for c in second], more) == (["c", "d"], False)


async def test_a_page_is_not_shifted_by_clients_registered_meanwhile(backend: str) -> None:
    for client_id, seconds in (("a", 0), ("b", 1), ("c", 2)):
        await _add(client_id, seconds=seconds)
    clients = Clients(default_connection())
    first, _ = await clients.page(after=None, limit=2)
    # A client registered before the position and one after it, between two pages.
    await _add("0-early", seconds=0)
    await _add("z-late", seconds=5)
    second, more = await clients.page(after=(first[-1].created_at, first[-1].id), limit=10)
    assert [c.id for c in first] == ["a", "b"]
    assert ([c.id for c in second], more) == (["c", "z-late"], False)


async def test_everyone_lists_every_client_oldest_first(backend: str) -> None:
    await _add("late", seconds=2, disabled=True)
    await _add("early", seconds=0)
    assert [c.id for c in await Clients(default_connection()).everyone()] == ["early", "late"]


async def test_hidden_clients_are_in_no_listing_and_take_no_place_in_a_page(backend: str) -> None:
    for client_id, seconds in (("a", 0), ("built-in", 1), ("b", 2), ("c", 3)):
        await _add(client_id, seconds=seconds)
    clients = Clients(default_connection())
    first, more = await clients.page(after=None, limit=2, hidden={"built-in"})
    assert ([c.id for c in first], more) == (["a", "b"], True)
    second, more = await clients.page(
        after=(first[-1].created_at, first[-1].id), limit=2, hidden={"built-in"}
    )
    assert ([c.id for c in second], more) == (["c"], False)
    assert [c.id for c in await clients.everyone(hidden={"built-in"})] == ["a", "b", "c"]
    assert await clients.find("built-in") is not None


DOCUMENT_ID = "https://agent.example/client.json"


def _described(name: str) -> dict[str, object]:
    return {
        "name": name,
        "public": True,
        "redirect_uris": ["http://127.0.0.1/cb"],
        "grant_types": ["authorization_code"],
        "scopes": ["openid"],
        "token_endpoint_auth_method": "none",
        "registration": "metadata_document",
        "client_metadata": {"logo_uri": "https://agent.example/logo.png"},
    }


async def test_mirror_creates_then_changes_only_what_differs(backend: str) -> None:
    store = Clients(default_connection())
    assert await store.mirror(DOCUMENT_ID, _described("Agent"), None) == (True, False)
    row = await store.find(DOCUMENT_ID)
    assert row is not None
    assert (row.name, row.registration, row.public) == ("Agent", "metadata_document", True)
    assert row.client_metadata == {"logo_uri": "https://agent.example/logo.png"}
    assert await store.mirror(DOCUMENT_ID, _described("Agent"), row) == (False, False)
    assert await store.mirror(DOCUMENT_ID, _described("Agent 2"), row) == (False, True)
    changed = await store.find(DOCUMENT_ID)
    assert changed is not None
    assert changed.name == "Agent 2"


async def test_two_mirrors_creating_one_client_at_once_both_succeed(backend: str) -> None:
    store = Clients(default_connection())
    await asyncio.gather(
        store.mirror(DOCUMENT_ID, _described("Agent"), None),
        store.mirror(DOCUMENT_ID, _described("Agent"), None),
    )
    assert await Client.filter(id=DOCUMENT_ID).count() == 1
