"""Follow the provider's security events on Redis and print each one as a JSON line.

    python -m clients.subscriber --redis-url redis://127.0.0.1:6379/0 [--pattern 'auth:*']

The provider publishes every audited event on the channel `auth:<event>` (user.login,
session.revoked, token.reuse_detected, admin.user_deleted, ...) once its transaction has
committed. Each message is a JSON object: `event`, `audit_id`, `outcome`, `user_id`,
`session_id`, `client_id`, `ip`, `request_id`, `time` (ISO 8601, UTC) and the event's own details.
This program prints one line per event on stdout, with the channel added, until interrupted:
pipe it into `jq`, a log shipper, or replace `handle` with what your service should do (end a
local session on `session.revoked`, alert on `token.reuse_detected`, ...).

Pub/sub is fire-and-forget: events published while no subscriber listens are not kept. The
audit trail (GET /v1/admin/audit-events) is the complete record; `audit_id` links the two.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from typing import Any, TextIO

import redis.asyncio as redis


def handle(channel: str, payload: dict[str, Any], out: TextIO) -> None:
    """Act on one event; here, print it as one JSON line."""
    out.write(json.dumps({"channel": channel, **payload}, separators=(",", ":")) + "\n")
    out.flush()


def decode(data: str) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except ValueError:
        return {"raw": data}
    return payload if isinstance(payload, dict) else {"raw": payload}


async def follow(url: str, pattern: str, out: TextIO = sys.stdout) -> None:
    client = redis.Redis.from_url(url, decode_responses=True)
    pubsub = client.pubsub()
    try:
        await pubsub.psubscribe(pattern)
        # Wait for Redis to confirm, so "subscribed" means no later event is missed.
        while (await pubsub.get_message(timeout=5)) is None:
            pass
        print(f"subscribed to {pattern}", file=sys.stderr, flush=True)
        async for message in pubsub.listen():
            if message["type"] == "pmessage":
                handle(message["channel"], decode(message["data"]), out)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", required=True, help="the provider's PROVIDER_REDIS_URL")
    parser.add_argument("--pattern", default="auth:*", help="channel pattern (default auth:*)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(follow(args.redis_url, args.pattern))


if __name__ == "__main__":
    main()
