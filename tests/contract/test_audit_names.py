"""AuditNames contract: the emails and client names the admin pages show instead of ids."""

from __future__ import annotations

import uuid

from provider.oauth.clients import ClientSpec, create_client
from provider.storage.audit_names import AuditNames
from provider.storage.db import default_connection
from provider.storage.models import User


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
