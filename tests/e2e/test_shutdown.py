"""SIGTERM at any moment ends `provider serve` and every process below it within the grace period
plus one second, in one-worker (a single process) and two-worker (manager + workers) modes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from provider.ops.shutdown import WATCHDOG_EXIT_CODE, descendants, process_stats
from provider.ops.shutdown import is_running as _alive
from tests.mail import MAIL_SETTINGS, CollectingHandler, Mailbox, start_smtp
from tests.support import PASSWORD, ROOT, EventCollector, free_port, launch_server
from tests.tcp_proxy import proxied

pytestmark = pytest.mark.e2e

GRACE = 2.0
BOUND = GRACE + 1.0  # the bound: the whole tree is gone within grace + 1 s
START_DEADLINE = 60.0
# How long the SMTP server of the mail test takes to accept a message: well inside GRACE.
MAIL_DELAY = 1.0
# How long Redis takes to receive each PUBLISH in the event test: under the worker's 0.5 s
# deadline for a Redis command, so the event is slow, not lost.
PUBLISH_DELAY = 0.3
# Headers without their final blank line: the request is in flight (not idle) until it comes.
PARTIAL_REQUEST = b"GET /ready HTTP/1.1\r\nHost: provider\r\n"


@dataclass
class Instance:
    process: subprocess.Popen[bytes]
    port: int
    workers: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_DEADLINE
        while not condition():
            assert self.process.poll() is None, f"exited before {what}:\n{self.log()}"
            assert time.monotonic() < deadline, f"no {what}:\n{self.log()}"
            time.sleep(0.02)

    def wait_ready(self) -> None:
        def ready() -> bool:
            try:
                return httpx.get(f"{self.url}/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait_for(ready, "/ready 200")
        # One worker answering /ready says nothing of the other: wait for each of them.
        self.wait_for(
            lambda: self.log().count("Worker ready [") >= self.workers, "every worker ready"
        )

    def draining_workers(self) -> int:
        return sum(
            1
            for line in self.log().splitlines()
            if '"provider.shutdown"' in line and "drain" in line
        )


@pytest.fixture
def spawn(
    base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Instance]]:
    started: list[Instance] = []

    def start(workers: int, grace: float = GRACE, **settings: str) -> Instance:
        env = {
            **base_env,
            **{f"PROVIDER_{name.upper()}": value for name, value in settings.items()},
            "PROVIDER_WORKERS": str(workers),
            "PROVIDER_GRACEFUL_SHUTDOWN_TIMEOUT": str(grace),
        }
        server = launch_server(env, tmp_path_factory.mktemp("shutdown"))
        process, port, log_path = server.process, server.port, server.log_path
        started.append(Instance(process, port, workers, log_path))
        return started[-1]

    yield start
    for instance in started:
        for pid in [*descendants(instance.process.pid), instance.process.pid]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        instance.process.wait()


def terminate_and_time(instance: Instance, signals: int = 1) -> float:
    """SIGTERM the instance (again once it drains, if `signals` is 2); seconds until it and every
    descendant (ever seen) have ended, from the first signal."""
    tree = {instance.process.pid, *descendants(instance.process.pid)}
    started = time.monotonic()
    instance.process.send_signal(signal.SIGTERM)
    if signals == 2:
        instance.wait_for(lambda: instance.draining_workers() >= instance.workers, "drain")
        instance.process.send_signal(signal.SIGTERM)
    return wait_until_gone(instance, tree, started)


def wait_until_gone(
    instance: Instance, tree: set[int], started: float, bound: float = BOUND
) -> float:
    """Seconds from `started` until the instance and every process of `tree` (and any child
    the instance starts meanwhile) have ended; fails past `bound`."""
    deadline = started + bound + 10  # wait past the bound, to report how late it is
    while time.monotonic() < deadline:
        if _alive(instance.process.pid):
            # Children started after the signal count too.
            tree.update(descendants(instance.process.pid))
        if not any(_alive(pid) for pid in tree):
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    left = sorted(pid for pid in tree if _alive(pid))
    instance.process.wait(timeout=5)
    assert not left, f"still running {elapsed:.1f} s after SIGTERM: {left}\n{instance.log()}"
    assert elapsed <= bound, f"the tree took {elapsed:.2f} s (bound {bound} s)\n{instance.log()}"
    return elapsed


@contextmanager
def keep_alive_connections(instance: Instance, count: int = 4) -> Iterator[list[socket.socket]]:
    """Connections that each completed one request and stay open, idle."""
    with ExitStack() as stack:
        connections = []
        for _ in range(count):
            conn = stack.enter_context(socket.create_connection(("127.0.0.1", instance.port), 10))
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: provider\r\n\r\n")
            assert b"200" in _read_response(conn).split(b"\r\n", 1)[0]
            connections.append(conn)
        yield connections


@contextmanager
def steady_load(instance: Instance, threads: int = 3) -> Iterator[None]:
    """Clients sending requests back to back on keep-alive connections; errors are expected."""
    stop = threading.Event()
    served = threading.Semaphore(0)

    def run() -> None:
        with httpx.Client(base_url=instance.url, timeout=5) as http:
            while not stop.is_set():
                for path in ("/health", "/ready", "/jwks", "/.well-known/openid-configuration"):
                    try:
                        http.get(path)
                        served.release()
                    except httpx.HTTPError:
                        time.sleep(0.01)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        for _ in range(20):  # the load is really on before the signal
            assert served.acquire(timeout=30)
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)


def _read_response(conn: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body


def _headers(response: bytes) -> dict[str, str]:
    head = response.split(b"\r\n\r\n", 1)[0].decode()
    return {
        name.strip().lower(): value.strip()
        for name, value in (line.split(":", 1) for line in head.split("\r\n")[1:])
    }


def _moments() -> list[tuple[str, int]]:
    moments = ["start-up", "start-up-serving", "ready", "idle", "keep-alive", "load", "in-flight"]
    # 7 moments x 3 repeats in each mode: 21 tries with one worker and 21 with two.
    return [(moment, workers) for workers in (1, 2) for moment in moments * 3]


def test_each_mode_gets_at_least_twenty_tries() -> None:
    tries = _moments()
    for workers in (1, 2):
        assert sum(1 for _, mode in tries if mode == workers) >= 20, workers


@pytest.mark.parametrize(("moment", "workers"), _moments())
def test_sigterm_ends_the_process_tree_within_the_grace_period(
    spawn: Callable[..., Instance], moment: str, workers: int
) -> None:
    instance = spawn(workers)
    if moment == "start-up":
        # Still importing or migrating: nothing is served yet.
        time.sleep(0.3)
    elif moment == "start-up-serving":
        # The worker is starting (pools opening), the listener not yet accepting.
        instance.wait_for(lambda: "Starting worker" in instance.log(), "worker start")
    else:
        instance.wait_ready()
    if moment == "idle":
        time.sleep(0.5)

    with ExitStack() as stack:
        if moment == "keep-alive":
            stack.enter_context(keep_alive_connections(instance))
        if moment == "load":
            stack.enter_context(steady_load(instance))
        if moment == "in-flight":
            conn = stack.enter_context(socket.create_connection(("127.0.0.1", instance.port), 10))
            # A client that never ends its request: it stays in flight past the grace period.
            conn.sendall(PARTIAL_REQUEST)
            time.sleep(0.2)
        elapsed = terminate_and_time(instance)
    assert elapsed <= BOUND, f"{moment}: the tree took {elapsed:.2f} s (bound {BOUND} s)"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_request_in_flight_finishes_and_closes_its_connection(
    spawn: Callable[..., Instance], workers: int
) -> None:
    instance = spawn(workers)
    instance.wait_ready()
    if workers == 1:
        # One worker is one process: no manager, no multiprocessing helpers.
        assert descendants(instance.process.pid) == []
    else:
        assert len(descendants(instance.process.pid)) > workers  # the workers and Sanic's helpers
    with socket.create_connection(("127.0.0.1", instance.port), 10) as conn:
        conn.sendall(PARTIAL_REQUEST)
        time.sleep(0.2)  # the worker has the request line and headers before the signal
        instance.process.send_signal(signal.SIGTERM)
        instance.wait_for(lambda: instance.draining_workers() >= workers, "drain")
        conn.sendall(b"\r\n")  # the end of the headers
        response = _read_response(conn)
        assert response.startswith(b"HTTP/1.1 503"), response
        assert b'"status":"draining"' in response, response
        assert _headers(response)["connection"] == "close"
        assert conn.recv(1) == b"", "the connection stays open after Connection: close"
    elapsed = terminate_and_time(instance)
    assert elapsed <= BOUND


@pytest.mark.parametrize("workers", [1, 2])
def test_a_second_sigterm_exits_at_once(spawn: Callable[..., Instance], workers: int) -> None:
    # A long grace and a request that never completes: only the second signal can end it early.
    instance = spawn(workers, grace=60.0)
    instance.wait_ready()
    with socket.create_connection(("127.0.0.1", instance.port), 10) as conn:
        conn.sendall(PARTIAL_REQUEST)
        time.sleep(0.2)
        elapsed = terminate_and_time(instance, signals=2)
    assert elapsed <= BOUND, f"{elapsed:.2f} s after the first SIGTERM, with a 60 s grace"


def _worker_pids(instance: Instance) -> list[int]:
    """The server workers, from their "Starting worker [pid]" lines."""
    return [int(pid) for pid in re.findall(r"Starting worker \[(\d+)\]", instance.log())]


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return False
    except ConnectionRefusedError:
        return True


@pytest.mark.parametrize("workers", [1, 2])
def test_draining_refuses_new_connections_and_closes_idle_ones_at_once(
    spawn: Callable[..., Instance], workers: int
) -> None:
    grace = 5.0
    instance = spawn(workers, grace=grace)
    instance.wait_ready()
    tree = {instance.process.pid, *descendants(instance.process.pid)}
    with keep_alive_connections(instance) as idle, ExitStack() as stack:
        stuck = stack.enter_context(socket.create_connection(("127.0.0.1", instance.port), 10))
        # A request that never completes keeps the drain going for the whole grace period.
        stuck.sendall(PARTIAL_REQUEST)
        time.sleep(0.2)
        started = time.monotonic()
        instance.process.send_signal(signal.SIGTERM)
        instance.wait_for(lambda: instance.draining_workers() >= workers, "drain")
        for conn in idle:
            conn.settimeout(1.0)
            assert conn.recv(1) == b"", "an idle keep-alive connection stays open while draining"
        while not _refused(instance.port):
            assert time.monotonic() - started < 1.0, "new connections are still accepted"
            time.sleep(0.05)
        # Refused by the drain, not by the exit: the instance still waits for the stuck request
        # (with two workers, the one with no request in flight may have ended already).
        assert instance.process.poll() is None
        assert any(_alive(pid) for pid in _worker_pids(instance))
    # The stuck client gives up: nothing is left in flight.
    wait_until_gone(instance, tree, started, grace + 1)
    assert instance.process.returncode == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_during_the_drain_delay_each_response_closes_its_connection(
    spawn: Callable[..., Instance], workers: int
) -> None:
    grace, delay = 4.0, 3.0
    instance = spawn(workers, grace=grace, drain_delay=str(delay))
    instance.wait_ready()
    tree = {instance.process.pid, *descendants(instance.process.pid)}
    with keep_alive_connections(instance) as open_before:
        started = time.monotonic()
        instance.process.send_signal(signal.SIGTERM)
        instance.wait_for(lambda: instance.draining_workers() >= workers, "drain")
        # Still served, each on its way out: Connection: close, then closed.
        for conn in open_before:
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: provider\r\n\r\n")
            response = _read_response(conn)
            assert response.startswith(b"HTTP/1.1 200"), response
            assert _headers(response)["connection"] == "close"
            assert conn.recv(1) == b"", "the connection stays open after Connection: close"
        # The load balancer's check on a new connection: out of the rotation already.
        ready = httpx.get(f"{instance.url}/ready", timeout=5)
        assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
        assert ready.headers["connection"] == "close"
        assert time.monotonic() - started < delay, "the checks ran past the drain delay"
    wait_until_gone(instance, tree, started, grace + 1)
    assert instance.process.returncode == 0


def test_the_watchdog_ends_the_tree_when_the_workers_are_stuck(
    spawn: Callable[..., Instance],
) -> None:
    instance = spawn(2)
    instance.wait_ready()
    workers = _worker_pids(instance)
    assert len(workers) == 2, instance.log()
    for pid in workers:
        # Stopped: they cannot drain, exit or answer anything any more.
        os.kill(pid, signal.SIGSTOP)
    elapsed = terminate_and_time(instance)
    assert elapsed <= BOUND
    assert instance.process.returncode == WATCHDOG_EXIT_CODE


class SlowHandler(CollectingHandler):
    """An SMTP server that takes a while to accept each message."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(MAIL_DELAY)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_mail_being_sent_is_delivered_before_the_exit(
    spawn: Callable[..., Instance], workers: int
) -> None:
    mailbox = Mailbox()
    smtp = start_smtp(SlowHandler(mailbox))
    try:
        instance = spawn(workers, smtp_url=f"smtp://127.0.0.1:{smtp.port}", **MAIL_SETTINGS)
        instance.wait_ready()
        email = f"flush-{uuid.uuid4().hex[:12]}@example.com"
        registered = httpx.post(
            f"{instance.url}/v1/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Ada"},
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        # The answer does not wait for the mail: it is still on its way to the SMTP server.
        assert mailbox.to(email) == []
        elapsed = terminate_and_time(instance)
        assert [message["To"] for message in mailbox.messages] == [email]
        assert elapsed <= BOUND
        assert instance.process.returncode == 0
    finally:
        smtp.stop()


def _publishes_held(data: bytes) -> float:
    return PUBLISH_DELAY if b"PUBLISH" in data else 0.0


@pytest.mark.parametrize("workers", [1, 2])
async def test_the_event_of_the_last_request_reaches_subscribers_after_sigterm(
    spawn: Callable[..., Instance], redis_url: str, workers: int
) -> None:
    """The event of a sign-up answered just before SIGTERM is held on its way to Redis while the
    signal arrives; it is published all the same, and the tree still ends within the bound."""
    if not redis_url:
        pytest.skip("events are published on Redis")
    async with (
        proxied(redis_url, 6379, _publishes_held) as (_, slow_redis),
        EventCollector(redis_url) as events,
    ):
        instance = spawn(workers, redis_url=slow_redis)
        # The proxy runs on this loop: the blocking waits go to a thread.
        await asyncio.to_thread(instance.wait_ready)
        async with httpx.AsyncClient(base_url=instance.url, timeout=10) as http:
            registered = await http.post(
                "/v1/auth/register",
                json={
                    "email": f"event-{uuid.uuid4().hex[:12]}@example.com",
                    "password": PASSWORD,
                    "name": "Ada",
                },
            )
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["user"]["id"]
        # The answer does not wait for the event: it is still on its way to Redis.
        assert not await events.received("auth:user.registered", user_id=user_id)

        elapsed = await asyncio.to_thread(terminate_and_time, instance)

        await events.wait_for("auth:user.registered", within=1, user_id=user_id)
        assert elapsed <= BOUND
        assert instance.process.returncode == 0


def _in_session(session: int) -> list[int]:
    """Running processes of a session (read from /proc)."""
    return [
        pid
        for pid, fields in process_stats()
        if int(fields[3]) == session and fields[0] not in "ZX"
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_start_that_fails_ends_the_process(tmp_path: Path, workers: int) -> None:
    """An unusable key stops the start, on the embedded SQLite database too (whose connection
    thread kept a failed single process alive): the process exits with 1 and leaves nothing
    behind, and the shell that started it (in its process group, as in a start-up script) lives
    on to see that status: Sanic's manager used to SIGKILL its whole process group."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "broken.json").write_text('{"kty": "RSA"}')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")} | {
        "PROVIDER_KEYS_DIR": str(keys),
        "PROVIDER_WORKERS": str(workers),
        "PROVIDER_PORT": str(free_port()),
        "PYTHONPATH": str(ROOT),
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        # A session of its own, led by the shell, so that nothing of the test's is in reach.
        process = subprocess.Popen(
            ["sh", "-c", '"$0" -m provider serve; echo "serve exited with $?"', sys.executable],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        code = process.wait(timeout=START_DEADLINE)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = log_path.read_text(errors="replace")
    assert code == 0, output  # the shell's own status: it was not killed
    assert "serve exited with 1" in output
    assert "broken.json" in output
    deadline = time.monotonic() + 2
    while left := _in_session(process.pid):
        assert time.monotonic() < deadline, f"left behind: {left}\n{output}"
        time.sleep(0.05)
