"""Start and stop the servers under test (pinned with taskset) and read their memory from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    cpus: str
    workers: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: Sanic's workers, or the server itself alone."""
        workers = [pid for pid in descendants(self.process.pid) if _is_sanic_worker(pid)]
        return sorted(workers) or [self.process.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    name: str,
    args: list[str],
    *,
    cpus: str,
    port: int,
    workers: int,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    ready_path: str,
    timeout_s: float = 90,
    program: str = sys.executable,
) -> Server:
    """`taskset -c CPUS PROGRAM ARGS…` (Python unless told) in `cwd`; returns once
    `ready_path` answers 200."""
    cwd.mkdir(parents=True, exist_ok=True)
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")},
        **env,
        "PYTHONPATH": str(ROOT),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["taskset", "-c", cpus, program, *args],
            cwd=cwd,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, f"http://127.0.0.1:{port}", process, log_path, cpus, workers)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log()[-3000:]}")
        try:
            ready = httpx.get(server.url + ready_path, timeout=2).status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready and len(server.worker_pids()) >= workers:
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not start in {timeout_s:.0f} s:\n{server.log()[-3000:]}")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc/<pid>/task/*/children)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                pending.append(child)
    return found


def _is_sanic_worker(pid: int) -> bool:
    """Sanic names its request-serving processes in SANIC_WORKER_NAME (Sanic-Server-<n>-<m>)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(item.startswith(b"SANIC_WORKER_NAME=Sanic-Server-") for item in environ)


def memory_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MB (2**20 bytes)."""
    figures: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = round(
                int(value.split()[0]) / 1024, 1
            )
    return figures
