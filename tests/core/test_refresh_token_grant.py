"""grant_type=refresh_token without HTTP (RFC 6749 §6): a token of this client, rotated, and a
scope that can only narrow."""

from __future__ import annotations

from typing import Any

import pytest

from provider.context import Services
from provider.crypto.tokens import token_hash
from provider.oauth.grants.refresh_token import refresh_token_grant
from provider.sessions.access_tokens import verify_access_token
from provider.storage.models import AuditEvent, Client, RefreshToken
from tests.contract.conftest import CALLER, make_session
from tests.core.refusals import refusal
from tests.core.rows import OFFLINE, issue_refresh, make_client


async def _refresh(services: Services, client: Client, token: str, **params: str) -> dict[str, Any]:
    return await refresh_token_grant(services, CALLER, client, {"refresh_token": token, **params})


async def _token_of(services: Services, client: Client) -> str:
    return (await issue_refresh(services, await make_session(), client)).token


async def _unused(token: str) -> bool:
    return (await RefreshToken.get(token_hash=token_hash(token))).used_at is None


async def test_a_refresh_rotates_and_keeps_the_granted_scope(services: Services) -> None:
    client = await make_client()
    token = await _token_of(services, client)

    body = await _refresh(services, client, token)

    assert body["scope"] == OFFLINE
    assert body["refresh_token"] != token
    assert {"access_token", "id_token"} <= set(body)
    assert not await _unused(token)
    child = await RefreshToken.get(token_hash=token_hash(body["refresh_token"]))
    assert (child.client_id, child.scope) == (client.id, OFFLINE)


async def test_a_missing_token_is_an_invalid_request(services: Services) -> None:
    client = await make_client()

    assert await refusal(refresh_token_grant(services, CALLER, client, {})) == "invalid_request"


@pytest.mark.parametrize("token", ["never-issued", "a.b.c", "x" * 600])
async def test_an_unknown_token_is_refused(services: Services, token: str) -> None:
    client = await make_client()

    assert await refusal(_refresh(services, client, token)) == "invalid_grant"
    assert await refusal(_refresh(services, client, token, scope="openid")) == "invalid_grant"
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0


async def test_a_token_of_another_client_is_refused_and_stays_its_owners(
    services: Services,
) -> None:
    owner = await make_client()
    other = await make_client("other")
    token = await _token_of(services, owner)

    assert await refusal(_refresh(services, other, token)) == "invalid_grant"
    assert await refusal(_refresh(services, other, token, scope="openid")) == "invalid_grant"

    assert await _unused(token)
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0
    assert (await _refresh(services, owner, token))["refresh_token"]


@pytest.mark.parametrize(
    "scope",
    [OFFLINE + " email", "api.read", "openid offline_access phone"],
    ids=["one-more", "other", "one-swapped"],
)
async def test_a_wider_scope_is_refused_and_leaves_the_token_usable(
    services: Services, scope: str
) -> None:
    client = await make_client()
    token = await _token_of(services, client)

    assert await refusal(_refresh(services, client, token, scope=scope)) == "invalid_scope"

    # A refused request must not use the token up, or the client's retry would look like theft.
    assert await _unused(token)
    assert (await _refresh(services, client, token))["scope"] == OFFLINE
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0


async def test_a_narrower_scope_is_granted_for_this_access_token_only(services: Services) -> None:
    client = await make_client()
    token = await _token_of(services, client)

    body = await _refresh(services, client, token, scope="offline_access")

    assert body["scope"] == "offline_access"
    assert "id_token" not in body
    claims = verify_access_token(
        services.keystore, body["access_token"], "https://id.example.com", client.id
    )
    assert claims["scope"] == "offline_access"
    # The grant itself is not narrowed: the next refresh may ask for all of it again.
    child = await RefreshToken.get(token_hash=token_hash(body["refresh_token"]))
    assert child.scope == OFFLINE
    assert (await _refresh(services, client, body["refresh_token"]))["scope"] == OFFLINE


async def test_a_used_token_asking_a_wider_scope_is_still_a_reuse(services: Services) -> None:
    client = await make_client()
    token = await _token_of(services, client)
    await _refresh(services, client, token)

    refused = _refresh(services, client, token, scope=OFFLINE + " email")

    assert await refusal(refused) == "invalid_grant"
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 1
