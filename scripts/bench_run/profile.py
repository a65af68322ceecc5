"""Sample a server worker with py-spy during one scenario and summarise the hottest frames.

Only the thread holding the GIL is sampled (`--gil`): what the event loop spends its CPU on.
Argon2id hashing (which releases the GIL in its thread pool) and waiting are not in it; the share
of samples taken against the number asked for says how busy the GIL was. py-spy writes collapsed
stacks (`frame;frame;…;frame COUNT`), which speedscope and flamegraph tools read; the summary
lists frames by self and total (inclusive) time, and the hottest call paths.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

_LINE_NUMBER = re.compile(r":\d+\)$")
RATE = 200


def available() -> bool:
    return shutil.which("py-spy") is not None or _venv_py_spy() is not None


def _venv_py_spy() -> str | None:
    import sys

    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else None


def start(pid: int, seconds: int, output: Path, cpus: str) -> subprocess.Popen[bytes]:
    binary = _venv_py_spy() or shutil.which("py-spy") or "py-spy"
    # --nonblocking: read the worker's memory without pausing it, so the measured run is not
    # slowed by the sampling (at the price of the odd torn stack).
    args = ["taskset", "-c", cpus, binary, "record", "--pid", str(pid), "--gil", "--nonblocking"]
    args += ["--duration", str(seconds), "--rate", str(RATE), "--format", "raw"]
    args += ["--output", str(output)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _frame(text: str) -> str:
    """`handler (provider/oauth/token.py:42)` → `handler (provider/oauth/token.py)`."""
    return _LINE_NUMBER.sub(")", text)


def summarise(collapsed: Path, seconds: float, top: int = 15) -> dict[str, Any]:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    paths: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        raw = stack.split(";")
        frames = [_frame(f) for f in raw]
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
        paths[" ← ".join(reversed(raw[-4:]))] += count
    result: dict[str, Any] = {
        "samples": samples,
        "gil_busy_pct": round(100 * samples / (RATE * seconds), 1) if seconds else None,
        "top": [],
        "top_total": [],
        "top_paths": [],
    }
    if not samples:
        return result

    def entry(frame: str) -> dict[str, Any]:
        return {
            "frame": frame,
            "self_pct": round(100 * own[frame] / samples, 1),
            "total_pct": round(100 * total[frame] / samples, 1),
        }

    result["top"] = [entry(frame) for frame, _ in own.most_common(top)]
    result["top_total"] = [entry(frame) for frame, _ in total.most_common(top)]
    result["top_paths"] = [
        {"path": path, "pct": round(100 * count / samples, 1)}
        for path, count in paths.most_common(8)
    ]
    return result
