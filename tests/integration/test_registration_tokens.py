"""Initial access tokens (RFC 7591 §3) minted by the CLI, the admin API and the admin console:
stored hashed, shown once, listed with their uses and expiry, revocable; and a minted token
registers a client."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from provider.crypto.tokens import token_hash
from provider.storage.models import AuditEvent, InitialAccessToken
from tests.admin_support import account, admin, auditor
from tests.oidc import csrf_of, hidden_fields
from tests.support import PASSWORD, ROOT, Server

NATIVE = {"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"}


async def _cli(database: str, cwd: Path, *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
    env |= {"PROVIDER_DATABASE_URL": database, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "provider",
        "registration-tokens",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


async def test_the_cli_mints_lists_and_revokes(
    server: Server, client: httpx.AsyncClient, database: str, tmp_path: Path
) -> None:
    minted = await _cli(
        database, tmp_path, "create", "--uses", "2", "--ttl", "3600", "--note", "ci pipeline"
    )
    token = minted["initial_access_token"]
    row = await InitialAccessToken.get(id=minted["id"])
    assert row.token_hash == token_hash(token)  # only the hash is stored
    assert (row.uses_left, row.note, row.created_by) == (2, "ci pipeline", "cli")
    listed = await _cli(database, tmp_path, "list")
    assert [item["id"] for item in listed] == [minted["id"]]
    assert "initial_access_token" not in listed[0]

    registered = await client.post(
        "/oauth/clients", json=NATIVE, headers={"Authorization": f"Bearer {token}"}
    )
    assert registered.status_code == 201, registered.text
    assert (await InitialAccessToken.get(id=minted["id"])).uses_left == 1

    await _cli(database, tmp_path, "revoke", minted["id"])
    refused = await client.post(
        "/oauth/clients", json=NATIVE, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401
    assert await AuditEvent.filter(event="registration.token_revoked").exists()


async def test_the_admin_api_mints_lists_and_revokes(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = await admin(client)
    created = await client.post(
        "/v1/admin/registration-tokens", json={"uses": 3, "note": "x"}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["token"]["uses_left"] == 3
    token_id = body["token"]["id"]
    assert (await InitialAccessToken.get(id=token_id)).token_hash == token_hash(
        body["initial_access_token"]
    )
    reader = await auditor(client)
    listed = await client.get("/v1/admin/registration-tokens", headers=reader)
    assert [t["id"] for t in listed.json()["tokens"]] == [token_id]
    # Auditors read; only admins mint and revoke.
    assert (
        await client.post("/v1/admin/registration-tokens", json={}, headers=reader)
    ).status_code == 403
    refused = await client.post("/v1/admin/registration-tokens", json={"uses": 0}, headers=headers)
    assert refused.status_code == 400
    gone = await client.delete(f"/v1/admin/registration-tokens/{token_id}", headers=headers)
    assert gone.status_code == 200
    again = await client.delete(f"/v1/admin/registration-tokens/{token_id}", headers=headers)
    assert again.status_code == 404
    bad_id = await client.delete("/v1/admin/registration-tokens/not-a-uuid", headers=headers)
    assert bad_id.status_code == 404


async def test_the_admin_console_mints_once_and_revokes(
    server: Server, client: httpx.AsyncClient
) -> None:
    await account(client, "root@example.com", "admin")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as browser:
        page = await browser.get("/login", params={"next": "/admin/registration-tokens"})
        form = {**hidden_fields(page.text), "identifier": "root@example.com", "password": PASSWORD}
        assert (await browser.post("/login", data=form)).status_code in (302, 303)
        page = await browser.get("/admin/registration-tokens")
        assert page.status_code == 200
        assert "Registration is closed" in page.text
        minted = await browser.post(
            "/admin/registration-tokens",
            data={"csrf": csrf_of(page.text), "uses": "2", "ttl": "600", "note": "partner"},
        )
        assert minted.status_code == 201
        row = await InitialAccessToken.get(note="partner")
        shown = minted.text.split('id="initial-access-token">')[1].split("<")[0]
        assert row.token_hash == token_hash(shown)
        # Listed afterwards without the token.
        listing = await browser.get("/admin/registration-tokens")
        assert f'data-token="{row.id}"' in listing.text
        assert shown not in listing.text
        bad = await browser.post(
            "/admin/registration-tokens",
            data={"csrf": csrf_of(listing.text), "uses": "many"},
        )
        assert bad.status_code == 400
        revoked = await browser.post(
            f"/admin/registration-tokens/{row.id}/revoke",
            data={"csrf": csrf_of(listing.text)},
        )
        assert revoked.status_code == 303
        assert not await InitialAccessToken.filter(id=row.id).exists()
