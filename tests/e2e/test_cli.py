"""`python -m provider …` as an operator runs it: users add, keys list/rotate, serve refusing."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from provider.storage.models import AuditEvent, User
from tests.support import PASSWORD, ROOT, Server, bearer, free_port, login, register

pytestmark = pytest.mark.e2e


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


async def run_cli(*args: str, env: dict[str, str], cwd: Path) -> Run:
    """The CLI in a subprocess with exactly `env` as its PROVIDER_* settings, away from .env."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
    full_env |= {"PYTHONPATH": str(ROOT), **env}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "provider",
        *args,
        cwd=cwd,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


def _kid_of(jwt: str) -> str:
    header = jwt.split(".")[0]
    kid: str = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    return kid


# --- users add -----------------------------------------------------------------------------------


async def test_users_add_creates_a_user(
    base_env: dict[str, str], clean: None, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    result = await run_cli(
        "users", "add", "--email", " Ada@Example.com ", "--password", PASSWORD,
        "--name", "Ada", "--username", "ada", "--role", "admin", "--verified",
        env=base_env, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["email"] == "ada@example.com"
    assert created["username"] == "ada"
    assert created["role"] == "admin"
    assert created["email_verified"] is True
    row = await User.get(id=created["id"])
    assert row.password_hash.startswith("$argon2id$")
    event = await AuditEvent.get(event="user.registered")
    assert str(event.user_id) == created["id"]
    assert event.user_agent == "provider-cli"
    assert PASSWORD not in result.stdout + result.stderr
    # The account works on the server.
    assert (await login(client, "ada"))["user"]["id"] == created["id"]


BAD_USERS = [
    (["--email", "not-an-email", "--password", PASSWORD], "email"),
    (["--email", "ada@example.com", "--password", "short"], "password"),
    (["--email", "ada@example.com", "--password", "1234567890"], "too common"),
    (["--email", "ada@example.com", "--password", PASSWORD, "--username", "a b"], "username"),
    (["--email", "taken@example.com", "--password", PASSWORD], "already exists"),
    (["--email", "TAKEN@example.com ", "--password", PASSWORD], "already exists"),
    (["--email", "ada@example.com", "--password", PASSWORD, "--username", "taken"], "taken"),
    # Look-alikes: a Cyrillic "a", a zero-width space.
    (["--email", "\u0430da@example.com", "--password", PASSWORD], "scripts"),
    (["--email", "ad\u200ba@example.com", "--password", PASSWORD], "ZERO WIDTH SPACE"),
    (["--email", "ada@example.com", "--password", PASSWORD, "--username", "\u0430da"], "username"),
]


async def test_users_add_refuses_bad_input_with_one_line(
    base_env: dict[str, str], clean: None, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    await register(client, email="taken@example.com", username="taken")
    users_before = await User.all().count()
    results = await asyncio.gather(
        *(run_cli("users", "add", *args, env=base_env, cwd=tmp_path) for args, _ in BAD_USERS)
    )
    for (args, mentions), result in zip(BAD_USERS, results, strict=True):
        assert result.code == 2, (args, result.stdout, result.stderr)
        assert result.stdout == "", args
        assert len(result.lines) == 1, (args, result.stderr)
        assert result.lines[0].startswith("provider: "), args
        assert mentions in result.lines[0], (args, result.lines)
        assert "Traceback" not in result.stderr
        assert PASSWORD not in result.stderr
    assert await User.all().count() == users_before


# --- keys ----------------------------------------------------------------------------------------


async def test_keys_rotate_reaches_the_jwks_of_a_running_server(
    server_with, base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    keys_dir = tmp_path_factory.mktemp("rotation-keys")
    server: Server = await server_with(keys_dir=str(keys_dir))
    env = {**base_env, "PROVIDER_KEYS_DIR": str(keys_dir)}
    cwd = tmp_path_factory.mktemp("cli")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        listed = await run_cli("keys", "list", "--json", env=env, cwd=cwd)
        assert listed.code == 0, listed.stderr
        [first] = json.loads(listed.stdout)
        assert first["state"] == "signing"
        assert first["alg"] == "RS256"
        jwks = await http.get("/jwks")
        assert [key["kid"] for key in jwks.json()["keys"]] == [first["kid"]]
        await register(http)
        before = await login(http)
        assert _kid_of(before["access_token"]) == first["kid"]

        rotated = await run_cli("keys", "rotate", "--delay", "0", env=env, cwd=cwd)
        assert rotated.code == 0, rotated.stderr
        listed = await run_cli("keys", "list", "--json", env=env, cwd=cwd)
        states = {row["kid"]: row["state"] for row in json.loads(listed.stdout)}
        assert len(states) == 2
        [new_kid] = set(states) - {first["kid"]}
        assert new_kid in rotated.stdout
        assert states == {first["kid"]: "retired", new_kid: "signing"}

        # The server reloads its keys every PROVIDER_KEYS_RELOAD_INTERVAL (1 s in tests).
        deadline = time.monotonic() + 10
        while True:
            published = await http.get("/jwks")
            kids = {key["kid"] for key in published.json()["keys"]}
            if new_kid in kids:
                break
            assert time.monotonic() < deadline, kids
            await asyncio.sleep(0.2)
        assert kids == {first["kid"], new_kid}  # the retired key stays published
        assert published.headers["etag"] != jwks.headers["etag"]
        after = await login(http)
        assert _kid_of(after["access_token"]) == new_kid
        # Tokens signed by the retired key still verify.
        assert (await http.get("/v1/auth/me", headers=bearer(before))).status_code == 200

        pending = await run_cli("keys", "rotate", "--delay", "3600", env=env, cwd=cwd)
        assert pending.code == 0, pending.stderr
        listed = await run_cli("keys", "list", "--json", env=env, cwd=cwd)
        assert sorted(row["state"] for row in json.loads(listed.stdout)) == [
            "pending",
            "retired",
            "signing",
        ]
        deadline = time.monotonic() + 10
        while len((await http.get("/jwks")).json()["keys"]) < 3:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert _kid_of((await login(http))["access_token"]) == new_kid  # not the pending key


async def test_keys_commands_refuse_bad_input(tmp_path: Path) -> None:
    env = {"PROVIDER_KEYS_DIR": str(tmp_path / "keys")}
    negative = await run_cli("keys", "rotate", "--delay", "-5", env=env, cwd=tmp_path)
    assert negative.code == 2
    assert negative.lines == ["provider: --delay must be zero or more seconds"]
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "broken.json").write_text('{"jwk": {"kty": "RSA", "alg": "RS256"}}')
    broken = await run_cli("keys", "list", "--json", env=env, cwd=tmp_path)
    assert broken.code == 1
    assert len(broken.lines) == 1, broken.stderr
    assert "broken.json" in broken.lines[0]
    assert "Traceback" not in broken.stderr


# --- serve refuses bad settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"PROVIDER_PORT": "notaport"}, "PROVIDER_PORT"),
        ({"PROVIDER_WORKERS": "0"}, "PROVIDER_WORKERS"),
        ({"PROVIDER_ENV": "prod", "PROVIDER_ISSUER": "https://id.example.com"},
         "PROVIDER_SECRET_KEY"),
        ({"PROVIDER_ENV": "prod", "PROVIDER_SECRET_KEY": "x" * 40,
          "PROVIDER_ISSUER": "http://id.example.com"}, "PROVIDER_ISSUER"),
        ({"PROVIDER_DATABASE_URL": "mysql://root@localhost/provider"}, "PROVIDER_DATABASE_URL"),
        ({"PROVIDER_REDIS_URL": "memcached://localhost"}, "PROVIDER_REDIS_URL"),
        ({"PROVIDER_CORS_ORIGINS": "[not json"}, "PROVIDER_CORS_ORIGINS"),
        ({"PROVIDER_ISSUER": "id.example.com"}, "PROVIDER_ISSUER"),
    ],
)  # fmt: skip
async def test_serve_refuses_invalid_settings_with_one_line(
    tmp_path: Path, settings: dict[str, str], variable: str
) -> None:
    env = {
        "PROVIDER_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
        "PROVIDER_KEYS_DIR": str(tmp_path / "keys"),
        "PROVIDER_PORT": str(free_port()),
        **settings,
    }
    result = await run_cli("serve", env=env, cwd=tmp_path)
    assert result.code != 0
    assert len(result.lines) == 1, result.stderr
    assert result.lines[0].startswith("provider: ")
    assert variable in result.lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "keys").exists()  # refused before doing anything
    assert not (tmp_path / "db.sqlite3").exists()


async def test_serve_refuses_a_bad_port_option(tmp_path: Path) -> None:
    result = await run_cli("serve", "--port", "70000", env={}, cwd=tmp_path)
    assert result.code == 2
    assert len(result.lines) == 1, result.stderr
    assert "PROVIDER_PORT" in result.lines[0]
