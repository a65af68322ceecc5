"""SIGTERM at any moment ends `provider serve` and every process below it within the grace period
plus one second, in one-worker (a single process) and two-worker (manager + workers) modes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from provider.ops.shutdown import descendants
from provider.ops.shutdown import is_running as _alive
from tests.support import launch_server

pytestmark = pytest.mark.e2e

GRACE = 2.0
BOUND = GRACE + 1.0  # the bound: the whole tree is gone within grace + 1 s
START_DEADLINE = 60.0
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

    def start(workers: int, grace: float = GRACE) -> Instance:
        env = {
            **base_env,
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
    deadline = started + BOUND + 10  # wait past the bound, to report how late it is
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
    assert elapsed <= BOUND, f"the tree took {elapsed:.2f} s (bound {BOUND} s)\n{instance.log()}"
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
    one = ["start-up", "start-up-serving", "ready", "idle", "keep-alive", "load", "in-flight"]
    two = ["start-up", "start-up-serving", "ready", "idle", "keep-alive", "load", "in-flight"]
    # 7 moments x 2 repeats with one worker, 7 with two workers: 21 tries.
    return [(m, 1) for m in one * 2] + [(m, 2) for m in two]


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
