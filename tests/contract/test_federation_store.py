"""IdentityProviders and FederatedIdentities contract: providers by slug, offered only with a
client id and enabled; one link per subject and per user at a provider; links go with their
provider and their user."""

from __future__ import annotations

import uuid

import pytest
from tortoise.transactions import in_transaction

from provider.storage.db import default_connection
from provider.storage.federation import (
    DuplicateRecord,
    FederatedIdentities,
    IdentityProviders,
    create_passwordless_user,
    user_by_email,
    user_by_id,
)
from provider.storage.models import FederatedIdentity, User
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session

OIDC = {"name": "Upstream", "kind": "oidc", "issuer": "https://up.example", "client_id": "rp"}


async def test_providers_by_slug_and_the_offered_ones(backend: str) -> None:
    store = IdentityProviders(default_connection())
    assert await store.add("b-up", {**OIDC, "name": "B"}) is not None
    assert await store.add("a-up", {**OIDC, "name": "A"}) is not None
    assert await store.add("no-id", {**OIDC, "name": "C", "client_id": ""}) is not None
    assert await store.add("off", {**OIDC, "name": "D", "enabled": False}) is not None
    assert await store.add("a-up", OIDC) is None
    assert [p.slug for p in await store.all()] == ["a-up", "b-up", "no-id", "off"]
    assert [p.slug for p in await store.offered()] == ["a-up", "b-up"]
    found = await store.get("a-up")
    assert found is not None
    assert (found.name, found.kind, found.scopes, found.claims) == ("A", "oidc", [], {})
    assert await store.get("missing") is None


async def test_an_update_changes_only_the_given_fields(backend: str) -> None:
    store = IdentityProviders(default_connection())
    await store.add("up", {**OIDC, "scopes": ["openid"]})
    updated = await store.update("up", {"name": "Renamed", "allow_signup": True})
    assert updated is not None
    again = await store.get("up")
    assert again is not None
    assert (again.name, again.allow_signup, again.scopes) == ("Renamed", True, ["openid"])
    assert await store.update("missing", {"name": "x"}) is None


async def test_links_by_subject_and_by_user(backend: str) -> None:
    await IdentityProviders(default_connection()).add("up", OIDC)
    session = await make_session()
    links = FederatedIdentities(default_connection())
    assert await links.find("up", "sub-1") is None
    now = utcnow()
    link = await links.link("up", "sub-1", session.user_id, "a@example.com", now)
    found = await links.find("up", "sub-1")
    assert found is not None
    assert (str(found.user_id), found.email, found.last_used_at) == (
        str(session.user_id),
        "a@example.com",
        None,
    )
    await links.used(link.id, "new@example.com", now)
    used = await links.find("up", "sub-1")
    assert used is not None
    assert used.email == "new@example.com"
    assert used.last_used_at is not None
    assert [item.subject for item in await links.of_user(session.user_id)] == ["sub-1"]
    assert await links.unlink(session.user_id, "up") is True
    assert await links.unlink(session.user_id, "up") is False
    assert await links.of_user(session.user_id) == []


@pytest.mark.parametrize("clash", ["subject", "user"])
async def test_one_link_per_subject_and_per_user_at_a_provider(backend: str, clash: str) -> None:
    await IdentityProviders(default_connection()).add("up", OIDC)
    ada, grace = await make_session(), await make_session()
    links = FederatedIdentities(default_connection())
    await links.link("up", "sub-1", ada.user_id, "", utcnow())
    subject, user_id = ("sub-1", grace.user_id) if clash == "subject" else ("sub-2", ada.user_id)
    async with in_transaction() as conn:
        with pytest.raises(DuplicateRecord):
            await FederatedIdentities(conn).link("up", subject, user_id, "", utcnow())
    assert await FederatedIdentity.all().count() == 1


async def test_links_go_with_their_provider_and_their_user(backend: str) -> None:
    providers = IdentityProviders(default_connection())
    await providers.add("up", OIDC)
    await providers.add("other", OIDC)
    ada, grace = await make_session(), await make_session()
    links = FederatedIdentities(default_connection())
    await links.link("up", "sub-ada", ada.user_id, "", utcnow())
    await links.link("other", "sub-ada", ada.user_id, "", utcnow())
    await links.link("up", "sub-grace", grace.user_id, "", utcnow())
    assert await providers.remove("up") is True
    assert await providers.remove("up") is False
    assert [link.provider_id for link in await FederatedIdentity.all()] == ["other"]
    await User.filter(id=ada.user_id).delete()
    assert await FederatedIdentity.all().count() == 0


async def test_a_passwordless_user_and_the_lookups(backend: str) -> None:
    conn = default_connection()
    user = await create_passwordless_user(
        conn, email="fed@example.com", name="Fed", verified_at=None
    )
    assert user.password_hash == ""
    found = await user_by_email(conn, "fed@example.com")
    assert found is not None
    assert found.id == user.id
    assert found.email_verified_at is None
    assert await user_by_id(conn, user.id) is not None
    assert await user_by_id(conn, uuid.uuid4()) is None
    with pytest.raises(DuplicateRecord):
        async with in_transaction() as tx:
            await create_passwordless_user(tx, email="fed@example.com", name="", verified_at=None)
