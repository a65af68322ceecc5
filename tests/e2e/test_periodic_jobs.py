"""The periodic jobs run while serving in both modes, one process and a manager with two workers:
expired rows are purged (PROVIDER_PURGE_INTERVAL) and every worker picks up a new signing key
(PROVIDER_KEYS_RELOAD_INTERVAL) with no signal and no restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from provider.ops.maintenance import RETENTION
from provider.storage.models import Session, User
from provider.storage.unit_of_work import utcnow
from tests.e2e.test_multi_worker import _fresh_connection, _pids_by_request_id
from tests.support import RedisProcess, Server, rotate_signing_key, start_server

pytestmark = pytest.mark.e2e

DEADLINE = 20.0


@pytest.fixture
async def serve(
    base_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    clean: None,
    redis_process: Callable[..., RedisProcess],
) -> AsyncIterator[Callable[[int], Awaitable[Server]]]:
    """A server of this test's own (its own keys folder), purging every second.

    Its Redis is its own too: the servers other tests share run all session long, and one of
    them taking the purge lock (for its 300 s interval) would keep this one from purging."""
    started: list[Server] = []
    cache = redis_process()

    async def start(workers: int) -> Server:
        env = {
            **base_env,
            "PROVIDER_REDIS_URL": cache.url,
            "PROVIDER_WORKERS": str(workers),
            "PROVIDER_PURGE_INTERVAL": "1",
            "PROVIDER_KEYS_RELOAD_INTERVAL": "1",
            "PROVIDER_KEYS_DIR": str(tmp_path_factory.mktemp("periodic-keys")),
        }
        server = await asyncio.to_thread(start_server, env, tmp_path_factory.mktemp("periodic"))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


async def _expired_session() -> uuid.UUID:
    """A session that ended longer ago than the retention: the next purge removes it."""
    user = await User.create(id=uuid.uuid4(), email="ada@example.com", password_hash="x")
    ended = utcnow() - RETENTION - timedelta(hours=1)
    session = await Session.create(
        id=uuid.uuid4(),
        user=user,
        created_at=ended - timedelta(days=30),
        last_active_at=ended - timedelta(days=1),
        expires_at=ended,
        auth_time=ended - timedelta(days=30),
    )
    return session.id


@pytest.mark.parametrize("workers", [1, 2])
async def test_purge_and_key_reload_run_in_every_mode(
    serve: Callable[[int], Awaitable[Server]], workers: int
) -> None:
    server = await serve(workers)

    session_id = await _expired_session()
    deadline = time.monotonic() + DEADLINE
    while await Session.filter(id=session_id).exists():
        assert time.monotonic() < deadline, f"the purge never ran:\n{server.log()[-3000:]}"
        await asyncio.sleep(0.2)

    kid = await asyncio.to_thread(rotate_signing_key, server.env, Path(server.log_path).parent)
    # Fresh connections, so the kernel hands them to any worker: until each has published it.
    with_new_key: set[int] = set()
    deadline = time.monotonic() + DEADLINE
    while len(with_new_key) < workers:
        assert time.monotonic() < deadline, f"workers with the new key: {with_new_key}"
        request_id = f"periodic-{uuid.uuid4().hex[:12]}"
        response = await _fresh_connection(
            server, "GET", "/jwks", headers={"X-Request-ID": request_id}
        )
        if kid in {key["kid"] for key in response.json()["keys"]}:
            await asyncio.sleep(0.05)  # the access-log line is written after the response
            pid = _pids_by_request_id(server).get(request_id)
            if pid is not None:
                with_new_key.add(pid)
        else:
            await asyncio.sleep(0.1)
    assert server.process.poll() is None
