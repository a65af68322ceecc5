"""A fixed-rate (open-loop) load generator: latency at a given rate, the way wrk2 measures it.

wrk sends the next request as soon as a connection is free, so its percentiles are those of a
saturated server. Here request i is due at `start + i / rate` whatever happened before it; a
free keep-alive connection sends it, and its latency runs from when it was due to the end of
its response, so the time it waited for a connection counts (no coordinated omission).

Run pinned to the load core: `taskset -c CPU python -m scripts.bench_run.paced URL --rate R
--seconds S [-H 'Name: value'] [--body FORM | --refresh-tokens FILE]`. It prints one JSON
line: requested and achieved rate, responses, non-2xx, errors, p50/p90/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvloop

# Connections kept open; more than the server can keep busy at 70 % of its peak, so a request
# waits for a connection only when the server is behind.
CONNECTIONS = 64
# How often the pacer wakes to hand out the requests that have fallen due.
TICK_S = 0.001


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    non_2xx: int = 0
    errors: int = 0


def build_requests(
    url: str, headers: list[str], body: str | None, refresh_tokens: Path | None
) -> tuple[str, int, Callable[[int], bytes], int | None]:
    """(host, port, request i → bytes, how many requests there are, None for no limit)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    head = [f"Host: {parts.netloc}", *headers]
    if refresh_tokens is not None:
        tokens = [line for line in refresh_tokens.read_text().splitlines() if line]
        bodies: list[str] | None = [
            "grant_type=refresh_token&refresh_token=" + token for token in tokens
        ]
    else:
        bodies = None
    method = "GET" if body is None and bodies is None else "POST"

    def encode(payload: str | None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", *head]
        if payload is not None:
            data = payload.encode()
            lines += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(data)}",
            ]
            return ("\r\n".join(lines) + "\r\n\r\n").encode() + data
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    if bodies is not None:
        fixed = bodies
        return host, port, lambda i: encode(fixed[i]), len(fixed)
    one = encode(body)
    return host, port, lambda i: one, None


async def _read_response(reader: asyncio.StreamReader) -> int:
    """The status of one HTTP/1.1 response with a Content-Length body (read and dropped)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str,
    port: int,
    due: asyncio.Queue[tuple[int, float] | None],
    request: Callable[[int], bytes],
    tally: Tally,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (item := await due.get()) is not None:
            index, due_at = item
            try:
                writer.write(request(index))
                status = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                tally.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            tally.latencies_ms.append((time.perf_counter() - due_at) * 1000)
            if not 200 <= status < 400:
                tally.non_2xx += 1
    finally:
        writer.close()


async def run(
    host: str,
    port: int,
    request: Callable[[int], bytes],
    rate: float,
    seconds: float,
    limit: int | None = None,
) -> dict[str, Any]:
    total = math.floor(rate * seconds)
    if limit is not None:
        total = min(total, limit)
    due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    tally = Tally()
    workers = [
        asyncio.create_task(_connection(host, port, due, request, tally))
        for _ in range(CONNECTIONS)
    ]
    await asyncio.sleep(0.2)  # the connections are open before the clock starts
    start = time.perf_counter()
    sent = 0
    while sent < total:
        now = time.perf_counter()
        while sent < total and start + sent / rate <= now:
            due.put_nowait((sent, start + sent / rate))
            sent += 1
        await asyncio.sleep(TICK_S)
    for _ in workers:
        due.put_nowait(None)
    await asyncio.wait_for(asyncio.gather(*workers), timeout=60)
    elapsed = time.perf_counter() - start
    return summary(tally, rate, elapsed, total)


def percentile(ordered: list[float], share: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)], 2)


def summary(tally: Tally, rate: float, elapsed: float, sent: int) -> dict[str, Any]:
    ordered = sorted(tally.latencies_ms)
    return {
        "rate": round(rate, 1),
        "achieved_rps": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "sent": sent,
        "responses": len(ordered),
        "non_2xx": tally.non_2xx,
        "errors": tally.errors,
        "p50_ms": percentile(ordered, 0.50),
        "p90_ms": percentile(ordered, 0.90),
        "p99_ms": percentile(ordered, 0.99),
        "max_ms": round(ordered[-1], 2) if ordered else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--body", help="form body of a POST sent on every request")
    parser.add_argument("--refresh-tokens", type=Path, help="one refresh token a line, each once")
    args = parser.parse_args(argv)
    host, port, request, limit = build_requests(
        args.url, args.header, args.body, args.refresh_tokens
    )
    uvloop.install()
    result = asyncio.run(run(host, port, request, args.rate, args.seconds, limit))
    print("BENCH_JSON " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
