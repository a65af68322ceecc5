"""Helpers for tests: start the real server, register and log users in."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fast_env(database_url: str, redis_url: str, keys_dir: Path) -> dict[str, str]:
    """Settings for test servers: real stores, cheap Argon2 so tests stay fast."""
    return {
        "PROVIDER_DATABASE_URL": database_url,
        "PROVIDER_REDIS_URL": redis_url,
        "PROVIDER_KEYS_DIR": str(keys_dir),
        "PROVIDER_ARGON2_TIME_COST": "1",
        "PROVIDER_ARGON2_MEMORY_COST": "1024",
        "PROVIDER_ARGON2_PARALLELISM": "1",
        "PROVIDER_LOG_FORMAT": "json",
        "PROVIDER_KEYS_RELOAD_INTERVAL": "1",
        # Servers are shared by many tests and the in-memory cache is not flushed between them:
        # limits high enough never to trip by accident. Rate-limit tests set their own.
        "PROVIDER_RATELIMIT_LOGIN_PER_IP": "100000",
        "PROVIDER_RATELIMIT_LOGIN_PER_ACCOUNT": "100000",
        "PROVIDER_RATELIMIT_REGISTER_PER_IP": "100000",
        "PROVIDER_RATELIMIT_REFRESH_PER_IP": "100000",
    }


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def launch_server(env: dict[str, str], workdir: Path, port: int | None = None) -> Server:
    """`python -m provider serve` in a subprocess, its output in `workdir/server.log`; returns at
    once, before the server answers."""
    port = port or free_port()
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")},
        "PROVIDER_ISSUER": f"http://127.0.0.1:{port}",
        **env,
        "PROVIDER_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "provider", "serve"],
            cwd=workdir,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Server(f"http://127.0.0.1:{port}", port, process, log_path, full_env)


def start_server(env: dict[str, str], workdir: Path, port: int | None = None) -> Server:
    """`launch_server`, then wait until /health answers."""
    server = launch_server(env, workdir, port)
    process = server.process
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.log()}")


async def register(
    http: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    response = await http.post(
        "/v1/auth/register", json={"email": email, "password": password, "name": "Ada", **extra}
    )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


async def login(
    http: httpx.AsyncClient,
    identifier: str = "ada@example.com",
    password: str = PASSWORD,
    **headers: str,
) -> dict[str, Any]:
    response = await http.post(
        "/v1/auth/sessions", json={"identifier": identifier, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str | Mapping[str, Any]) -> dict[str, str]:
    """The Authorization header for an access token, or for a token response's access_token."""
    access = token if isinstance(token, str) else token["access_token"]
    return {"Authorization": f"Bearer {access}"}


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The JSON API error envelope with `status` (and `code`); returns the inner `error`."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert (
        {"code", "message", "request_id"}
        <= set(error)
        <= {
            "code",
            "message",
            "details",
            "request_id",
        }
    ), error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    if code is not None:
        assert error["code"] == code, error
    return error


async def row_counts() -> dict[str, int]:
    """How many rows each table of the account core holds (read by the test process)."""
    from provider.storage.models import AuditEvent, OneTimeToken, RefreshToken, Session, User

    return {
        model.__name__: await model.all().count()
        for model in (User, Session, RefreshToken, OneTimeToken, AuditEvent)
    }


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


@dataclass
class RedisProcess:
    """A private, throw-away redis-server (no persistence) on its own port."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def start_redis(port: int | None = None, *options: str) -> RedisProcess:
    """`options` are extra redis-server arguments (`--requirepass`, `--enable-debug-command`);
    a server with a password answers the readiness PING with NOAUTH, which counts as up."""
    binary = redis_server_binary()
    assert binary is not None, "redis-server is not installed"
    port = port or free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                    return RedisProcess(port, process)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def rotate_signing_key(env: Mapping[str, str], cwd: Path | None = None) -> str:
    """`provider keys rotate --delay 0` with a server's settings `env`: the new key's id."""
    rotate = subprocess.run(
        [sys.executable, "-m", "provider", "keys", "rotate", "--delay", "0"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rotate.returncode == 0, rotate.stderr
    kid = re.search(r"key (\S+);", rotate.stdout)
    assert kid, rotate.stdout
    return kid.group(1)


class EventCollector:
    """Subscribes to `auth:*` on a Redis before a test triggers events, then waits for them."""

    def __init__(self, redis_url: str) -> None:
        import redis.asyncio as redis

        self._client = redis.Redis.from_url(redis_url, decode_responses=True)
        self._pubsub = self._client.pubsub()
        self.messages: list[tuple[str, dict[str, Any]]] = []

    async def __aenter__(self) -> EventCollector:
        await self._pubsub.psubscribe("auth:*")
        # The subscription is confirmed once its first message arrives.
        message = await self._pubsub.get_message(timeout=5)
        assert message is not None
        assert message["type"] == "psubscribe"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._pubsub.aclose()
        await self._client.aclose()

    async def wait_for(self, channel: str, within: float = 5, **match: Any) -> dict[str, Any]:
        """The payload of the first message on `channel` whose fields equal `match` (channels are
        shared by every process on that Redis); fails after `within` seconds."""
        deadline = time.monotonic() + within
        while (payload := self._seen(channel, match)) is None:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {channel} event; got {[c for c, _ in self.messages]}"
            await self._receive(min(remaining, 0.5))
        return payload

    async def received(self, channel: str, **match: Any) -> bool:
        """Whether such a message has arrived by now, without waiting for one."""
        while await self._receive(0.0):
            pass
        return self._seen(channel, match) is not None

    def _seen(self, channel: str, match: dict[str, Any]) -> dict[str, Any] | None:
        for seen, payload in self.messages:
            if seen == channel and all(payload.get(k) == v for k, v in match.items()):
                return payload
        return None

    async def _receive(self, within: float) -> bool:
        """Wait up to `within` seconds for one message; whether one came."""
        message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=within)
        if message is None:
            return False
        if message["type"] == "pmessage":
            self.messages.append((message["channel"], json.loads(message["data"])))
        return True


def start_process(
    args: list[str], url: str, log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a helper program (an example client) and wait until `url` answers."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited:\n{log_path.read_text(errors='replace')}")
        try:
            httpx.get(url, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{args} did not start:\n{log_path.read_text(errors='replace')}")
