"""Zero-downtime restart behind Caddy: each of two instances is restarted in turn under load.

Client loops send a steady mix through Caddy (the project's Caddyfile, `tls internal`): sign-ins
(`POST /v1/auth/sessions`), refresh rotations (`POST /v1/auth/tokens/refresh`) and
client_credentials requests at `/token`. Meanwhile instance a (one process), then instance b (a
manager with two workers), gets SIGTERM, exits, and is started again on the same port. Every
response must be the expected 2xx, no request may fail to connect, and every refresh chain must end
with a token that still works.

What makes it hold: on SIGTERM an instance answers `/ready` 503 for PROVIDER_DRAIN_DELAY seconds
while it still serves, so Caddy's active check on /ready takes it out before its listener and its
keep-alive connections close; a request Caddy could not deliver (connection refused while the
instance is down) is retried on the other one (lb_try_duration).
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from provider.storage.models import AuditEvent
from tests.e2e.test_caddy_multi_instance import (
    Edge,
    instances_behind_caddy,
    shared_redis_url,
)
from tests.oidc import register_client
from tests.support import PASSWORD, Server, fast_env, free_port, register, start_server

pytestmark = pytest.mark.e2e

__all__ = ["shared_redis_url"]  # a fixture this module uses

GRACE = 10.0
DRAIN_DELAY = 1.5
HEALTH_INTERVAL = "250ms"
USER_LOOPS = 4
SERVICE_LOOPS = 2
REFRESHES_PER_SIGN_IN = 3
DEADLINE = 60.0


@dataclass
class Load:
    """What the client loops sent and what went wrong."""

    counts: dict[str, int] = field(default_factory=lambda: {"sign-in": 0, "refresh": 0, "token": 0})
    failures: list[str] = field(default_factory=list)
    last_refresh_tokens: dict[int, str] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def total(self) -> int:
        return sum(self.counts.values())


@pytest.fixture
def rolling_edge(
    database: str,
    database_url: str,
    shared_redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Edge]:
    if database_url.startswith("sqlite"):
        # Several instances writing at once need a database server (README, Operations): on one
        # SQLite file the load's writes meet "database is locked". CI always runs this on
        # PostgreSQL (tests/conftest.py fails a CI run without it).
        pytest.skip("instances restarted under write load share PostgreSQL, not a SQLite file")
    https_port = free_port()
    keys_dir = tmp_path_factory.mktemp("rolling-keys")
    env = {
        **fast_env(database_url, shared_redis_url, keys_dir),
        "PROVIDER_ISSUER": f"https://localhost:{https_port}",
        "PROVIDER_TRUST_PROXY": "1",
        "PROVIDER_GRACEFUL_SHUTDOWN_TIMEOUT": str(GRACE),
        "PROVIDER_DRAIN_DELAY": str(DRAIN_DELAY),
    }
    with instances_behind_caddy(
        env, tmp_path_factory, "rolling", https_port, "", health_interval=HEALTH_INTERVAL
    ) as (edge, servers):
        yield edge
        servers[:] = [edge.a, edge.b]  # the restarted ones


async def _user_loop(edge: Edge, load: Load, number: int) -> None:
    """Sign in, rotate the refresh token a few times, sign in again, … until told to stop."""
    email = f"user{number}@example.com"
    async with edge.client() as http:
        while not load.stop.is_set():
            try:
                response = await http.post(
                    "/v1/auth/sessions", json={"identifier": email, "password": PASSWORD}
                )
            except httpx.HTTPError as exc:
                load.failures.append(f"sign-in {email}: {exc!r}")
                return
            load.counts["sign-in"] += 1
            if response.status_code != 200:
                load.failures.append(f"sign-in {email}: {response.status_code} {response.text}")
                return
            token: str = response.json()["refresh_token"]
            load.last_refresh_tokens[number] = token
            for _ in range(REFRESHES_PER_SIGN_IN):
                try:
                    response = await http.post(
                        "/v1/auth/tokens/refresh", json={"refresh_token": token}
                    )
                except httpx.HTTPError as exc:
                    load.failures.append(f"refresh {email}: {exc!r}")
                    return
                load.counts["refresh"] += 1
                if response.status_code != 200:
                    load.failures.append(f"refresh {email}: {response.status_code} {response.text}")
                    return
                token = response.json()["refresh_token"]
                load.last_refresh_tokens[number] = token


async def _service_loop(edge: Edge, load: Load, auth: httpx.BasicAuth) -> None:
    """client_credentials at /token, back to back, until told to stop."""
    async with edge.client() as http:
        while not load.stop.is_set():
            try:
                response = await http.post(
                    "/token", data={"grant_type": "client_credentials"}, auth=auth
                )
            except httpx.HTTPError as exc:
                load.failures.append(f"token: {exc!r}")
                return
            load.counts["token"] += 1
            if response.status_code != 200 or "access_token" not in response.json():
                load.failures.append(f"token: {response.status_code} {response.text}")
                return


async def _wait_until_caddy_routes_to(edge: Edge, name: str) -> None:
    """Caddy's active check has found the instance ready: requests reach it again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    async with edge.client() as http:
        while True:
            request_id = f"back-{name}-{uuid.uuid4().hex[:12]}"
            response = await http.get("/health", headers={"X-Request-ID": request_id})
            assert response.status_code == 200, (response.status_code, response.text)
            if name in edge.served_by(request_id):
                return
            assert loop.time() < deadline, f"Caddy never routed to the restarted instance {name}"
            await asyncio.sleep(0.05)


async def _restart(edge: Edge, name: str, load: Load) -> int:
    """SIGTERM the instance, wait for it to exit, start it on its port; the requests meanwhile."""
    old: Server = getattr(edge, name)
    before = load.total()
    old.process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(old.process.wait, GRACE + 5)
    assert code == 0, f"instance {name} exited with {code}:\n{old.log()[-3000:]}"
    workdir = Path(old.log_path).parent / f"restart-{uuid.uuid4().hex[:6]}"
    workdir.mkdir()
    env = {k: v for k, v in old.env.items() if k.startswith("PROVIDER_")}
    new = await asyncio.to_thread(start_server, env, workdir, old.port)
    async with edge.direct(new) as http:
        deadline = asyncio.get_running_loop().time() + DEADLINE
        while (await http.get("/ready")).status_code != 200:
            assert asyncio.get_running_loop().time() < deadline, new.log()[-3000:]
            await asyncio.sleep(0.05)
    setattr(edge, name, new)
    await _wait_until_caddy_routes_to(edge, name)
    return load.total() - before


@pytest.fixture
async def load_ready(rolling_edge: Edge, clean: None) -> httpx.BasicAuth:
    """The users of the loops and the client_credentials client exist; yields its credentials."""
    async with rolling_edge.client() as http:
        for number in range(USER_LOOPS):
            await register(http, email=f"user{number}@example.com")
    service = await register_client(
        name="Service", redirect_uris=[], grant_types=["client_credentials"], scopes=[]
    )
    return service.basic()


async def test_restarting_each_instance_in_turn_loses_no_request_and_no_rotation(
    rolling_edge: Edge, load_ready: httpx.BasicAuth
) -> None:
    edge = rolling_edge
    load = Load()
    loops = [
        *(asyncio.create_task(_user_loop(edge, load, n)) for n in range(USER_LOOPS)),
        *(asyncio.create_task(_service_loop(edge, load, load_ready)) for _ in range(SERVICE_LOOPS)),
    ]
    try:
        # Both instances have answered under load before the first restart.
        await _wait_until_caddy_routes_to(edge, "a")
        await _wait_until_caddy_routes_to(edge, "b")
        during = {name: await _restart(edge, name, load) for name in ("a", "b")}
        # Both restarted instances serve the load before it stops.
        await _wait_until_caddy_routes_to(edge, "a")
    finally:
        load.stop.set()
        await asyncio.wait_for(asyncio.gather(*loops), DEADLINE)

    assert load.failures == [], load.failures[:10]
    assert all(count > 0 for count in load.counts.values()), load.counts
    assert all(count > 0 for count in during.values()), during
    # No rotation lost: the last refresh token of every chain still rotates.
    async with edge.client() as http:
        for number, token in sorted(load.last_refresh_tokens.items()):
            response = await http.post("/v1/auth/tokens/refresh", json={"refresh_token": token})
            assert response.status_code == 200, (number, response.text)
    assert len(load.last_refresh_tokens) == USER_LOOPS
    assert await AuditEvent.filter(event="token.reuse_detected").count() == 0
    print(f"requests {load.total()} {load.counts}; during the restarts {during}")
