"""`python -m provider …`: serve, migrate, keys, users. Bad input exits non-zero with one line."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from provider.config import Settings


class CliError(Exception):
    """A one-line reason for a non-zero exit."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = [
            f"PROVIDER_{'_'.join(str(p) for p in e['loc']).upper() or 'SETTINGS'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        ]
        raise CliError("invalid settings: " + "; ".join(lines)) from exc


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


def cmd_serve(args: argparse.Namespace) -> None:
    settings = load_settings(host=args.host, port=args.port, workers=args.workers)
    from provider.crypto.keys import ensure_dev_key
    from provider.storage.db import migrate

    _run(migrate(settings.database_url))
    created = ensure_dev_key(settings.keys_dir)
    if created is not None:
        print(f"created signing key {created.kid} in {settings.keys_dir}", file=sys.stderr)
    _serve(settings)


def _serve(settings: Settings) -> None:
    if settings.workers > 1:
        metrics_dir = Path("var") / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from provider.app import create_app

    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    app.prepare(
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        single_process=settings.workers == 1,
        access_log=False,
        motd=False,
    )
    Sanic.serve(primary=app, app_loader=loader)


def cmd_migrate(args: argparse.Namespace) -> None:
    from provider.storage.db import migrate

    settings = load_settings()
    _run(migrate(settings.database_url))
    print("migrations applied")


def cmd_keys_list(args: argparse.Namespace) -> None:
    from provider.crypto.keys import read_keys, retired_at

    settings = load_settings()
    now = time.time()
    records = read_keys(settings.keys_dir) if settings.keys_dir.exists() else []
    rows = []
    for record in records:
        retired = retired_at(record, records, now)
        state = "pending" if record.active_from > now else ("retired" if retired else "signing")
        rows.append(
            {
                "kid": record.kid,
                "alg": record.alg,
                "state": state,
                "active_from": datetime.fromtimestamp(record.active_from, UTC).isoformat(),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['kid']}  {row['alg']:<7}  {row['state']:<8}  active from {row['active_from']}")


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from provider.crypto.keys import rotate

    settings = load_settings()
    delay = settings.key_activation_delay if args.delay is None else args.delay
    if delay < 0:
        raise CliError("--delay must be zero or more seconds")
    record = rotate(settings.keys_dir, args.alg, delay, settings.access_token_ttl)
    when = datetime.fromtimestamp(record.active_from, UTC).isoformat()
    print(f"added {record.alg} key {record.kid}; published now, signing from {when}")


def cmd_users_add(args: argparse.Namespace) -> None:
    settings = load_settings()
    _run(_users_add(settings, args))


async def _users_add(settings: Settings, args: argparse.Namespace) -> None:
    from provider.accounts.users import public_user, register_user
    from provider.cache.events import EventPublisher
    from provider.cache.fallback import build_cache
    from provider.context import Caller
    from provider.crypto.passwords import Passwords
    from provider.errors import ApiError
    from provider.storage.db import close_database, open_database

    await open_database(settings.database_url)
    cache = build_cache(settings.redis_url)
    events = EventPublisher(cache)
    passwords = Passwords(
        settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism, 1
    )
    try:
        user = await register_user(
            passwords,
            events,
            Caller(ip="cli", user_agent="provider-cli", request_id=uuid.uuid4().hex),
            email=args.email,
            password=args.password,
            name=args.name or "",
            username=args.username,
            role=args.role,
            verified=args.verified,
        )
        print(json.dumps(public_user(user)))
    except ApiError as exc:
        detail = f" ({json.dumps(exc.details)})" if exc.details else ""
        raise CliError(f"{exc.message}{detail}") from exc
    finally:
        await events.drain()
        await cache.close()
        passwords.close()
        await close_database()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="provider", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service (applies migrations first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    keys = commands.add_parser("keys", help="signing keys").add_subparsers(
        dest="keys", required=True
    )
    keys_list = keys.add_parser("list", help="list keys and their state")
    keys_list.add_argument("--json", action="store_true")
    keys_list.set_defaults(func=cmd_keys_list)
    keys_rotate = keys.add_parser("rotate", help="add the next signing key")
    keys_rotate.add_argument("--alg", choices=["RS256", "ES256", "Ed25519"], default="RS256")
    keys_rotate.add_argument("--delay", type=int, help="seconds before it signs")
    keys_rotate.set_defaults(func=cmd_keys_rotate)

    users = commands.add_parser("users", help="accounts").add_subparsers(
        dest="users", required=True
    )
    users_add = users.add_parser("add", help="create an account")
    users_add.add_argument("--email", required=True)
    users_add.add_argument("--password", required=True)
    users_add.add_argument("--name")
    users_add.add_argument("--username")
    users_add.add_argument("--role", choices=["user", "admin", "auditor"], default="user")
    users_add.add_argument("--verified", action="store_true")
    users_add.set_defaults(func=cmd_users_add)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], None] = args.func
    try:
        handler(args)
    except CliError as exc:
        print(f"provider: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from provider.crypto.keys import KeyError_

        if isinstance(exc, KeyError_ | OSError):
            print(f"provider: {exc}", file=sys.stderr)
            return 1
        raise
    return 0
