"""Run wrk pinned to the load core(s) and parse its report.

Figures come from wrk's own text output (`--latency`): requests and run time, the latency
distribution, "Non-2xx or 3xx responses" and "Socket errors". Lua scripts may add one line
`BENCH_JSON {…}` from their `done()` (e.g. how many refresh tokens were consumed).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent.parent / "bench_lua"
MISSING_WRK = "wrk is not installed: apt-get install wrk"

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
_RPS = re.compile(r"^Requests/sec:\s*([\d.]+)", re.MULTILINE)
_EXTRA = re.compile(r"^BENCH_JSON (.+)$", re.MULTILINE)


class WrkError(RuntimeError):
    """wrk did not run, or printed something that is not a report."""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    percentiles_ms: dict[int, float]
    non_2xx: int
    socket_errors: dict[str, int]
    wrk_rps: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """Responses that were not 2xx/3xx, plus connect/read/write errors and timeouts."""
        return self.non_2xx + sum(self.socket_errors.values())

    @property
    def ok_rps(self) -> float:
        """Successful (2xx/3xx) responses per second: errors never count as throughput, nor
        the filler requests a script reports after it ran out of work."""
        ok = self.requests - self.non_2xx - int(self.extra.get("fillers", 0))
        return max(ok, 0) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": self.seconds,
            "rps": round(self.ok_rps, 1),
            "wrk_rps": self.wrk_rps,
            "p50_ms": self.percentiles_ms.get(50),
            "p75_ms": self.percentiles_ms.get(75),
            "p90_ms": self.percentiles_ms.get(90),
            "p99_ms": self.percentiles_ms.get(99),
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
            "errors": self.errors,
            **({"script": self.extra} if self.extra else {}),
        }


def _ms(value: str, unit: str) -> float:
    return round(float(value) * _UNITS_MS[unit], 3)


def parse(output: str) -> WrkResult:
    """The figures of one wrk report (wrk 4.x text output with --latency)."""
    duration = _DURATION.search(output)
    if duration is None:
        raise WrkError(f"not a wrk report:\n{output[-2000:]}")
    percentiles = {int(p): _ms(v, u) for p, v, u in _PERCENTILE.findall(output)}
    non_2xx = _NON_2XX.search(output)
    socket = _SOCKET.search(output)
    rps = _RPS.search(output)
    extra = parse_extra(output)
    return WrkResult(
        requests=int(duration.group(1)),
        seconds=_ms(duration.group(2), duration.group(3)) / 1000,
        percentiles_ms=percentiles,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(
            zip(
                ("connect", "read", "write", "timeout"),
                (int(n) for n in socket.groups()) if socket else (0, 0, 0, 0),
                strict=True,
            )
        ),
        wrk_rps=float(rps.group(1)) if rps else 0.0,
        extra=extra,
    )


def parse_extra(output: str) -> dict[str, Any]:
    """The `BENCH_JSON {…}` lines of an output, merged (also printed by `paced`)."""
    extra: dict[str, Any] = {}
    for line in _EXTRA.findall(output):
        extra.update(json.loads(line))
    return extra


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError(MISSING_WRK)
    return path


def command(
    url: str,
    *,
    cpus: str,
    seconds: int,
    connections: int,
    script: str | None = None,
    headers: tuple[str, ...] = (),
    script_args: tuple[str, ...] = (),
    timeout_s: int = 10,
) -> list[str]:
    """`taskset -c CPUS wrk -t1 -cN -dS --latency [-s script] URL [-- args]`."""
    args = ["taskset", "-c", cpus, wrk_path(), "-t1", f"-c{connections}", f"-d{seconds}s"]
    args += ["--latency", f"--timeout={timeout_s}s"]
    for header in headers:
        args += ["-H", header]
    if script:
        args += ["-s", str(LUA_DIR / script)]
    args.append(url)
    if script_args:
        args += ["--", *script_args]
    return args


def start(args: list[str], log_path: Path) -> subprocess.Popen[str]:
    """Start wrk in the background (its report is read by `finish`)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(
    process: subprocess.Popen[str],
    log_path: Path,
    timeout_s: float,
    stop_file: Path | None = None,
) -> WrkResult:
    """Wait for wrk's report. When its script writes `stop_file` (it has done what it came
    for), wrk gets SIGINT and reports at once, its rate over the time it actually ran: a
    script cannot end the run itself (wrk sleeps for -d; system() from Lua blocks SIGINT)."""
    deadline = time.monotonic() + timeout_s
    interrupted = False
    while True:
        try:
            output, _ = process.communicate(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if stop_file is not None and not interrupted and stop_file.exists():
                process.send_signal(signal.SIGINT)
                interrupted = True
            if time.monotonic() > deadline:
                process.kill()
                output, _ = process.communicate()
                log_path.write_text(output)
                raise WrkError(
                    f"wrk did not finish in {timeout_s:.0f} s (see {log_path})"
                ) from None
    log_path.write_text(output)
    if process.returncode != 0:
        raise WrkError(f"wrk exited with {process.returncode}: {output.strip()[-500:]}")
    return parse(output)


def run(args: list[str], log_path: Path, seconds: int, stop_file: Path | None = None) -> WrkResult:
    if stop_file is not None:
        stop_file.unlink(missing_ok=True)
    return finish(start(args, log_path), log_path, seconds + 60, stop_file)
