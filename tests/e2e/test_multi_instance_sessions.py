"""Two instances on one database and one Redis, each keeping copies of session facts: a session
revoked through one instance makes its access tokens fail on the other at its next request."""

from __future__ import annotations

import httpx
import pytest

from tests.oidc import Browser, register_client, sign_in_for_tokens
from tests.support import PASSWORD, Server, bearer, login, register

pytestmark = pytest.mark.e2e
# With the client cache, introspection reads the denylist with the caller's version, in one
# round trip; without it, on its own.
CLIENT_CACHE = pytest.mark.parametrize("client_cache", ["false", "true"])


async def _introspect(server: Server, rp_auth: httpx.BasicAuth, token: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post("/introspect", data={"token": token}, auth=rp_auth)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def _userinfo(server: Server, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})


async def _two_instances(server_with, client_cache: str) -> tuple[Server, Server]:  # type: ignore[no-untyped-def]
    """Two instances of one provider: one issuer (as behind Caddy), one database, one Redis."""
    first: Server = await server_with(tag="sessions-first", client_cache=client_cache)
    second: Server = await server_with(
        tag="sessions-second", issuer=first.url, client_cache=client_cache
    )
    return first, second


@CLIENT_CACHE
async def test_a_session_revoked_on_one_instance_fails_its_tokens_on_the_other(
    server_with, client_cache: str
) -> None:
    first, second = await _two_instances(server_with, client_cache)
    rp = await register_client()
    async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
        await register(http, username="ada")
        tokens, _ = await sign_in_for_tokens(Browser(http), rp, "ada@example.com", PASSWORD)
    access = tokens["access_token"]
    # Both instances check the session once, and keep their copy of it.
    for server in (first, second, first, second):
        body = await _introspect(server, rp.basic(), access)
        assert (body["active"], body["username"]) == (True, "ada")
        assert (await _userinfo(server, access)).status_code == 200

    async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
        account = bearer(await login(http))
        # Every other session of the user, the one of the code flow among them.
        ended = await http.delete("/v1/auth/sessions", headers=account)
        assert ended.status_code == 200, ended.text
        assert ended.json()["revoked"] >= 1

    for server in (second, first):
        assert await _introspect(server, rp.basic(), access) == {"active": False}
        refused = await _userinfo(server, access)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"


@CLIENT_CACHE
async def test_a_new_username_shows_on_the_other_instance_at_once(
    server_with, client_cache: str
) -> None:
    first, second = await _two_instances(server_with, client_cache)
    rp = await register_client()
    async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
        await register(http, username="ada")
        tokens, _ = await sign_in_for_tokens(Browser(http), rp, "ada@example.com", PASSWORD)
        assert (await _introspect(second, rp.basic(), tokens["access_token"]))["username"] == "ada"
        account = bearer(await login(http))
        changed = await http.patch("/v1/auth/me", json={"username": "lovelace"}, headers=account)
        assert changed.status_code == 200, changed.text
    body = await _introspect(second, rp.basic(), tokens["access_token"])
    assert (body["active"], body["username"]) == (True, "lovelace")


@CLIENT_CACHE
async def test_a_revoked_access_token_is_inactive_on_the_other_instance(
    server_with, client_cache: str
) -> None:
    first, second = await _two_instances(server_with, client_cache)
    rp = await register_client()
    async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
        await register(http)
        tokens, _ = await sign_in_for_tokens(Browser(http), rp, "ada@example.com", PASSWORD)
        access = tokens["access_token"]
        assert (await _introspect(second, rp.basic(), access))["active"] is True
        revoked = await http.post("/revoke", data={"token": access}, auth=rp.basic())
        assert revoked.status_code == 200
    assert await _introspect(second, rp.basic(), access) == {"active": False}
    # Nor does a wrong secret learn anything, token or not.
    async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
        wrong = await http.post(
            "/introspect", data={"token": access}, auth=httpx.BasicAuth(rp.client_id, "wrong")
        )
    assert wrong.status_code == 401
