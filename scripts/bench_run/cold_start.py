"""Cold start of `provider serve` on the embedded defaults (SQLite file, in-memory cache, a dev
key created on first start): seconds from the exec to the first 200 from /health and from /ready.

Each try runs in a fresh directory, so it migrates an empty database and creates its key, as the
very first start does; the median of the tries is reported, with the slowest.

`python -m scripts.bench_run.cold_start TRIES [SERVER_CPUS]` prints one JSON object; with
SERVER_CPUS (a taskset list) the server runs pinned there, and this poller wherever it was started,
so polling does not steal the server's core.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent.parent
DEADLINE = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_200(url: str, process: subprocess.Popen[bytes], began: float) -> float:
    while time.perf_counter() - began < DEADLINE:
        if process.poll() is not None:
            raise RuntimeError(f"provider serve exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - began
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"no 200 from {url} within {DEADLINE:.0f} s")


def one_start(server_cpus: str | None) -> tuple[float, float]:
    port = _free_port()
    # Bytecode is written and used, as in an installed image (the first, untimed start writes it).
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PROVIDER_") and k != "PYTHONDONTWRITEBYTECODE"
        },
        "PROVIDER_PORT": str(port),
        "PROVIDER_ISSUER": f"http://127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
    }
    with tempfile.TemporaryDirectory(prefix="provider-cold-") as workdir:
        began = time.perf_counter()
        pinning = ["taskset", "-c", server_cpus] if server_cpus else []
        process = subprocess.Popen(
            [*pinning, sys.executable, "-m", "provider", "serve"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            health = _first_200(f"http://127.0.0.1:{port}/health", process, began)
            ready = _first_200(f"http://127.0.0.1:{port}/ready", process, began)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return health, ready


def measure(tries: int, server_cpus: str | None = None) -> dict[str, Any]:
    # The first start warms the OS page cache and writes bytecode: "cold" is the process, not the
    # disk.
    one_start(server_cpus)
    starts = [one_start(server_cpus) for _ in range(tries)]
    health = [h for h, _ in starts]
    ready = [r for _, r in starts]
    return {
        "tries": tries,
        "health_s": round(statistics.median(health), 3),
        "health_max_s": round(max(health), 3),
        "ready_s": round(statistics.median(ready), 3),
    }


def main() -> None:
    print(json.dumps(measure(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)))


if __name__ == "__main__":
    main()
