"""`python -m provider clients …`: register, list and rotate secrets of relying parties."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
from provider.storage.models import Client
from tests.oidc import RegisteredClient, token_request
from tests.support import ROOT, Server


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)


@pytest.fixture
def cli(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run the CLI against the test database, away from any .env of the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
    env |= {"PROVIDER_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}

    async def run(*args: str) -> Run:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "provider",
            *args,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode is not None
        return Run(process.returncode, stdout.decode(), stderr.decode())

    return run


async def _client_credentials(
    http: httpx.AsyncClient, client_id: str, secret: str
) -> httpx.Response:
    rp = RegisteredClient(client_id, secret)
    return await token_request(http, rp, {"grant_type": "client_credentials"})


async def test_clients_add_list_and_public(server: Server, client: httpx.AsyncClient, cli) -> None:  # type: ignore[no-untyped-def]
    confidential, public_run = await asyncio.gather(
        cli(
            "clients",
            "add",
            "--name",
            "Billing",
            "--redirect-uri",
            "https://billing.example/callback",
            "--post-logout-redirect-uri",
            "https://billing.example/",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "client_credentials",
            "--json",
        ),
        cli(
            "clients",
            "add",
            "--name",
            "SPA",
            "--public",
            "--redirect-uri",
            "http://localhost:5173/callback",
            "--json",
        ),
    )
    added = confidential.json()
    assert added["name"] == "Billing"
    assert added["client_id"]
    assert len(added["client_secret"]) >= 43
    row = await Client.get(id=added["client_id"])
    assert row.redirect_uris == ["https://billing.example/callback"]
    assert row.post_logout_redirect_uris == ["https://billing.example/"]
    assert row.token_endpoint_auth_method == "client_secret_basic"
    assert row.public is False
    assert row.secret_hash
    assert added["client_secret"] not in row.secret_hash
    # The printed secret is the one that works.
    ok = await _client_credentials(client, added["client_id"], added["client_secret"])
    assert ok.status_code == 200, ok.text

    public = public_run.json()
    assert public["client_secret"] is None
    row = await Client.get(id=public["client_id"])
    assert row.public is True
    assert row.token_endpoint_auth_method == "none"
    assert row.secret_hash is None

    listed = (await cli("clients", "list", "--json")).json()
    by_id = {entry["client_id"]: entry for entry in listed}
    assert set(by_id) == {added["client_id"], public["client_id"]}
    assert by_id[added["client_id"]]["name"] == "Billing"
    assert by_id[added["client_id"]]["auth_method"] == "client_secret_basic"
    assert set(by_id[added["client_id"]]["grant_types"]) == {
        "authorization_code",
        "client_credentials",
    }
    assert by_id[public["client_id"]]["public"] is True
    assert by_id[public["client_id"]]["auth_method"] == "none"
    assert added["client_secret"] not in json.dumps(listed)


BAD_REDIRECT_URIS = {
    "http://billing.example/callback": "https",
    "https://billing.example/callback#done": "fragment",
    "/callback": "absolute",
    "javascript://billing.example/%0aalert(1)": "forbidden",
}


async def test_clients_add_refuses_bad_redirect_uris(server: Server, cli) -> None:  # type: ignore[no-untyped-def]
    runs = await asyncio.gather(
        *(
            cli("clients", "add", "--name", "Bad", "--redirect-uri", uri, "--json")
            for uri in BAD_REDIRECT_URIS
        )
    )
    for run, reason in zip(runs, BAD_REDIRECT_URIS.values(), strict=True):
        assert run.code == 2, run
        assert run.stdout == ""
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        assert lines[0].startswith("provider: ")
        assert reason in lines[0]
    assert await Client.exclude(id=FIRST_PARTY_CLIENT_ID).count() == 0  # none registered


async def test_rotate_secret_with_and_without_grace(
    server: Server,
    client: httpx.AsyncClient,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    added = (
        await cli(
            "clients", "add", "--name", "Worker", "--grant-type", "client_credentials", "--json"
        )
    ).json()
    client_id, original = added["client_id"], added["client_secret"]

    rotated = (await cli("clients", "rotate-secret", client_id, "--grace", "60", "--json")).json()
    assert rotated["client_id"] == client_id
    assert rotated["grace_seconds"] == 60
    second = rotated["client_secret"]
    assert second != original
    assert (await _client_credentials(client, client_id, second)).status_code == 200
    # Within the grace period the previous secret still works.
    assert (await _client_credentials(client, client_id, original)).status_code == 200

    rotated = (await cli("clients", "rotate-secret", client_id, "--grace", "0", "--json")).json()
    third = rotated["client_secret"]
    assert (await _client_credentials(client, client_id, third)).status_code == 200
    for old in (second, original):
        refused = await _client_credentials(client, client_id, old)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"

    unknown, negative = await asyncio.gather(
        cli("clients", "rotate-secret", "no-such-client", "--json"),
        cli("clients", "rotate-secret", client_id, "--grace", "-1"),
    )
    assert unknown.code == 2
    assert len(unknown.stderr.strip().splitlines()) == 1
    assert negative.code == 2
    assert (await _client_credentials(client, client_id, third)).status_code == 200


async def test_clients_add_sets_introspect_any_and_refuses_the_issuers_audience(
    cli, clean: None
) -> None:  # type: ignore[no-untyped-def]
    base = ("clients", "add", "--grant-type", "client_credentials", "--json")
    gateway = (await cli(*base, "--name", "Gateway", "--introspect-any")).json()
    plain = (await cli(*base, "--name", "Plain")).json()
    assert (await Client.get(id=gateway["client_id"])).introspect_any is True
    assert (await Client.get(id=plain["client_id"])).introspect_any is False
    # The CLI's issuer is the default one: its account API audience is not for clients.
    refused = await cli(*base, "--name", "Sneaky", "--audience", "http://127.0.0.1:8000/v1")
    assert refused.code != 0
    assert "audience" in refused.stderr


async def test_a_private_key_jwt_client_gets_no_secret(
    clean: None,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    added = (
        await cli(
            "clients",
            "add",
            "--name",
            "Signed worker",
            "--grant-type",
            "client_credentials",
            "--auth-method",
            "private_key_jwt",
            "--jwks-uri",
            "https://keys.example.com/jwks",
            "--json",
        )
    ).json()
    assert added["client_secret"] is None
    assert (await Client.get(id=added["client_id"])).secret_hash is None
    refused = await cli("clients", "rotate-secret", added["client_id"], "--json")
    assert refused.code == 2
    assert "private_key_jwt" in refused.stderr
    assert (await Client.get(id=added["client_id"])).secret_hash is None
    for jwks_uri in ("http://keys.example.com/jwks", "https://127.0.0.1/jwks"):
        bad = await cli(
            "clients",
            "add",
            "--name",
            "Bad",
            "--grant-type",
            "client_credentials",
            "--auth-method",
            "private_key_jwt",
            "--jwks-uri",
            jwks_uri,
        )
        assert bad.code == 2
        assert "jwks_uri" in bad.stderr
