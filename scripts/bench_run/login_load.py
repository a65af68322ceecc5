"""The login load: N virtual users, each signing in again and again through the hosted pages.

Run as its own process pinned to the load core (`python -m scripts.bench_run.login_load
CONFIG.json`); prints one JSON object: completed sign-ins per second in the measured window,
their latency (the whole flow) and the errors by step and status.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from scripts.bench_run import browser, peer_browser
from scripts.bench_run.browser import FlowError
from scripts.bench_run.seed import ClientCredentials


@dataclass
class Tally:
    started_at: float
    measure_from: float
    measure_until: float
    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    warmup_logins: int = 0

    def in_window(self, finished: float) -> bool:
        return self.measure_from <= finished < self.measure_until


# The sign-in flow each side's pages follow (the config's "flow").
FLOWS = {"ours": browser.sign_in, "peer": peer_browser.sign_in}


async def virtual_user(
    base_url: str,
    flow: str,
    client: ClientCredentials,
    emails: itertools.cycle[str],
    password: str,
    tally: Tally,
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while time.monotonic() < tally.measure_until:
            began = time.monotonic()
            error: str | None = None
            try:
                await FLOWS[flow](http, client, next(emails), password)
            except FlowError as exc:
                error = exc.kind
            except httpx.HTTPError as exc:
                error = f"transport:{type(exc).__name__}"
            finished = time.monotonic()
            if not tally.in_window(finished):
                if finished < tally.measure_from and error is None:
                    tally.warmup_logins += 1
                continue
            if error is None:
                tally.latencies_s.append(finished - began)
            else:
                tally.errors[error] += 1


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(config: dict[str, Any]) -> dict[str, Any]:
    client = ClientCredentials(**config["client"])
    emails = itertools.cycle(config["emails"])
    now = time.monotonic()
    tally = Tally(
        started_at=now,
        measure_from=now + config["warmup"],
        measure_until=now + config["warmup"] + config["duration"],
    )
    await asyncio.gather(
        *(
            virtual_user(
                config["url"],
                config.get("flow", "ours"),
                client,
                emails,
                config["password"],
                tally,
            )
            for _ in range(config["concurrency"])
        )
    )
    logins = len(tally.latencies_s)
    p50, p99 = percentile(tally.latencies_s, 0.50), percentile(tally.latencies_s, 0.99)
    return {
        "logins": logins,
        "seconds": config["duration"],
        "rps": round(logins / config["duration"], 2),
        "p50_ms": None if p50 is None else round(p50 * 1000, 1),
        "p99_ms": None if p99 is None else round(p99 * 1000, 1),
        "errors": sum(tally.errors.values()),
        "errors_by_step": dict(tally.errors),
        "warmup_logins": tally.warmup_logins,
        "concurrency": config["concurrency"],
    }


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(run(config))))


if __name__ == "__main__":
    main()
