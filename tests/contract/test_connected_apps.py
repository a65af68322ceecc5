"""ConnectedApps contract: a user's consents with the client's name and the last time the
client got or refreshed a token for that user."""

from __future__ import annotations

from datetime import timedelta

from provider.storage.connected_apps import ConnectedApps
from provider.storage.consents import Consents
from provider.storage.db import default_connection
from provider.storage.models import AuditEvent, Client
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session


async def _client(client_id: str, name: str) -> None:
    await Client.create(id=client_id, name=name)


async def _use(user_id: object, client_id: str, event: str, minutes_ago: int) -> None:
    await AuditEvent.create(
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        event=event,
        outcome="success",
        user_id=user_id,
        client_id=client_id,
    )


async def test_no_consents_no_apps(backend: str) -> None:
    session = await make_session()
    assert await ConnectedApps(default_connection()).of_user(session.user_id) == []


async def test_apps_carry_name_scopes_grant_and_last_use(backend: str) -> None:
    ada, grace = await make_session(), await make_session()
    await _client("notes", "Notes")
    await _client("photos", "Photos")
    consents = Consents(default_connection())
    granted = utcnow() - timedelta(days=2)
    await consents.remember(ada.user_id, "notes", ["openid", "profile"], granted)
    await consents.remember(ada.user_id, "photos", ["openid"], utcnow())
    await consents.remember(grace.user_id, "notes", ["openid"], utcnow())
    await _use(ada.user_id, "notes", "token.issued", 60)
    await _use(ada.user_id, "notes", "token.refreshed", 5)
    await _use(ada.user_id, "notes", "user.login", 1)
    await _use(grace.user_id, "notes", "token.refreshed", 0)
    await _use(ada.user_id, "photos", "consent.granted", 0)

    apps = await ConnectedApps(default_connection()).of_user(ada.user_id)

    assert [app.client_id for app in apps] == ["photos", "notes"]
    photos, notes = apps
    assert (photos.client_name, photos.scopes, photos.last_used_at) == ("Photos", ["openid"], None)
    assert (notes.client_name, notes.scopes) == ("Notes", ["openid", "profile"])
    assert notes.granted_at == granted
    assert notes.last_used_at is not None
    assert timedelta(minutes=4) < utcnow() - notes.last_used_at < timedelta(minutes=6)
