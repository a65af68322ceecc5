"""InvitedAccounts and AuditNames contracts: accounts found by address and created without a
usable password (a taken address is None, not an error), and the names shown instead of ids."""

from __future__ import annotations

import uuid

from provider.oauth.clients import ClientSpec, create_client
from provider.storage.audit_names import AuditNames
from provider.storage.db import default_connection
from provider.storage.invited_accounts import InvitedAccounts
from provider.storage.models import User
from provider.storage.unit_of_work import unit_of_work
from tests.contract.conftest import CALLER, RecordingPublisher


async def test_create_then_find_by_address(backend: str, publisher: RecordingPublisher) -> None:
    async with unit_of_work(CALLER, publisher) as work:
        accounts = InvitedAccounts(work.conn)
        assert await accounts.by_email("new@example.com") is None
        created = await accounts.create(
            email="new@example.com", name="Newt", role="auditor", password_hash="!unusable"
        )
        assert created is not None
        found = await accounts.by_email("new@example.com")
    assert found is not None
    assert found.id == created.id
    stored = await User.get(id=created.id)
    assert (stored.name, stored.role, stored.password_hash) == ("Newt", "auditor", "!unusable")


async def test_a_taken_address_is_none(backend: str, publisher: RecordingPublisher) -> None:
    async with unit_of_work(CALLER, publisher) as work:
        first = await InvitedAccounts(work.conn).create(
            email="taken@example.com", name="", role="user", password_hash="x"
        )
    assert first is not None
    async with unit_of_work(CALLER, publisher) as work:
        second = await InvitedAccounts(work.conn).create(
            email="taken@example.com", name="", role="admin", password_hash="y"
        )
    assert second is None
    assert await User.filter(email="taken@example.com").count() == 1


async def test_names_of_users_and_clients(backend: str) -> None:
    ada = await User.create(id=uuid.uuid4(), email="ada@example.com", password_hash="x")
    client, _ = await create_client(
        ClientSpec(
            name="Shop",
            redirect_uris=["https://shop.example/cb"],
            post_logout_redirect_uris=[],
            grant_types=["authorization_code"],
            scopes=[],
        ),
        b"k" * 32,
        "https://id.example",
    )
    names = AuditNames(default_connection())
    unknown = str(uuid.uuid4())
    assert await names.user_emails([str(ada.id), unknown]) == {str(ada.id): "ada@example.com"}
    assert await names.user_emails([]) == {}
    assert await names.client_names([client.id, "gone"]) == {client.id: "Shop"}
    assert await names.client_names([]) == {}
