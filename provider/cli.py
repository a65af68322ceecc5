"""`python -m provider …`: serve, migrate, keys, clients, resources, users, idps. Bad input
exits non-zero with one line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from provider.cli_context import cli_use_case, refusal_text
from provider.cli_registration import RegistrationCliError
from provider.cli_registration import add_commands as add_registration_commands
from provider.cli_roles import RolesCliError
from provider.cli_roles import add_commands as add_role_commands
from provider.cli_roles import runner as roles_runner
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
    from provider.ops.logging import configure_logging
    from provider.ops.shutdown import exit_at_once_on_signal
    from provider.storage.db import migrate

    exit_at_once_on_signal()
    # Before anything is said: with JSON logs, every line the process writes is JSON.
    configure_logging(settings.json_logs, settings.log_level)
    _run(migrate(settings.database_url))
    if settings.bootstrap_admin_email:
        _run(_bootstrap_admin(settings))
    created = ensure_dev_key(settings.keys_dir)
    if created is not None:
        logging.getLogger("provider.keys").warning(
            "created signing key %s in %s", created.kid, settings.keys_dir
        )
    _serve(settings)


async def _bootstrap_admin(settings: Settings) -> None:
    """PROVIDER_BOOTSTRAP_ADMIN_EMAIL: the first administrator, and the link that sets its password
    printed here (never a password on a command line); nothing when it has one already."""
    from provider.accounts.invitations import INVITATION_DAYS, bootstrap_admin
    from provider.cache.events import EventPublisher
    from provider.cache.fallback import build_cache
    from provider.context import Caller
    from provider.domain_errors import DomainError
    from provider.storage.db import close_database, open_database

    log = logging.getLogger("provider.bootstrap")
    await open_database(settings.database_url)
    cache = build_cache(settings.redis_url)
    events = EventPublisher(cache)
    caller = Caller(ip="cli", user_agent="provider-serve", request_id=uuid.uuid4().hex)
    try:
        done = await bootstrap_admin(settings, events, caller, settings.bootstrap_admin_email)
    except DomainError as exc:
        raise CliError(f"PROVIDER_BOOTSTRAP_ADMIN_EMAIL: {exc.message}") from exc
    finally:
        await events.drain()
        await cache.close()
        await close_database()
    if done.link is not None:
        log.warning(
            "first administrator %s: open %s to choose its password (works once, for %d days)",
            done.email,
            done.link,
            INVITATION_DAYS,
        )
    elif done.outcome == "not_admin":
        log.warning(
            "PROVIDER_BOOTSTRAP_ADMIN_EMAIL: %s has an account that is not an administrator; "
            "it is left as it is",
            done.email,
        )


def _serve(settings: Settings) -> None:
    from sanic import Sanic

    from provider.app import create_app
    from provider.ops.shutdown import Shutdown, guard_signal_handlers
    from provider.ops.welcome import address_in_use, announce_ready
    from provider.sanic_app import App

    if settings.workers == 1:
        # One process: no manager, no multiprocessing children; the worker's own loop handles
        # SIGTERM/SIGINT (drain) and SIGHUP (key reload).
        app = create_app(settings)
        app.after_server_start(lambda app: announce_ready(settings))
        app.prepare(
            host=settings.host,
            port=settings.port,
            single_process=True,
            access_log=False,
            motd=False,
        )
        try:
            Sanic.serve_single(primary=app)
        except OSError as exc:
            raise CliError(address_in_use(settings, exc) or str(exc)) from exc
        # The server's own shutdown closed the pools and flushed what it could; interpreter
        # finalization (joining executor threads, tearing down modules) would only delay the
        # exit that orchestrators and the shutdown watchdog wait for.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)
    metrics_dir = Path("var") / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    # Sanic.serve runs a manager process with the workers as its children.
    _forward_sighup_to_workers()
    _end_the_tree_not_the_group()
    _tolerate_the_state_process_ending()
    from sanic.worker.loader import AppLoader

    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    app.prepare(
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        motd=False,
    )

    @app.main_process_ready
    async def guard_manager(app: App) -> None:
        # The manager's own SIGTERM handler stops the workers; the watchdog makes sure the
        # manager and every child (its state-sharing process too) are gone after the grace.
        listeners = [info.settings["sock"] for info in app.state.server_info]
        guard_signal_handlers(
            Shutdown(settings.graceful_shutdown_timeout), _server_workers, listeners
        )
        # The listening sockets are bound by now; the workers accept from them as they start.
        announce_ready(settings)

    try:
        Sanic.serve(primary=app, app_loader=loader)
    except OSError as exc:
        raise CliError(address_in_use(settings, exc) or str(exc)) from exc


def _server_workers() -> list[int]:
    """Pids of the manager's server workers (not Sanic's other children)."""
    import multiprocessing

    from sanic.worker.process import Worker, WorkerProcess

    server_prefix = f"{Worker.WORKER_PREFIX}-{WorkerProcess.SERVER_LABEL}-"
    return [
        child.pid
        for child in multiprocessing.active_children()
        if child.name.startswith(server_prefix) and child.pid is not None
    ]


def _end_the_tree_not_the_group() -> None:
    """When a worker fails to start, Sanic's manager SIGKILLs each worker's process group: its
    own, which it shares with the shell or script that started it (killed too, or left without
    an exit status). Instead, the manager ends its own descendants and exits with 1."""
    from sanic.worker.manager import WorkerManager

    from provider.ops.shutdown import exit_process_tree

    def kill(manager: WorkerManager) -> None:
        logging.getLogger("provider.serve").error("a worker failed: ending every worker")
        sys.stderr.flush()
        exit_process_tree(1)

    WorkerManager.kill = kill  # type: ignore[method-assign]


def _tolerate_the_state_process_ending() -> None:
    """Once the workers have ended, the manager ends its other children (`exit_when_ended`), the
    process that holds the workers' shared state among them, while Sanic may still be reading
    that state to wait for the workers. A read cut short that way can fail with more than the
    errors Sanic expects (a reply garbled mid-way: a string where a worker's state was), which
    made the manager exit with 1 after a clean drain. Any failure there means there is nothing
    left to wait for."""
    from sanic import Sanic

    read = Sanic._get_process_states

    def tolerant(worker_state: Any) -> list[str]:
        try:
            return read(worker_state)
        except Exception:
            return []

    Sanic._get_process_states = staticmethod(tolerant)  # type: ignore[method-assign]


def _forward_sighup_to_workers() -> None:
    """SIGHUP to the main process (`docker kill -s HUP`) makes every worker re-read its keys."""
    import signal
    from types import FrameType

    def forward(signum: int, frame: FrameType | None) -> None:
        # Only the server workers: Sanic's other children (its state manager) die on SIGHUP.
        for pid in _server_workers():
            os.kill(pid, signal.SIGHUP)

    signal.signal(signal.SIGHUP, forward)


def cmd_migrate(args: argparse.Namespace) -> None:
    from provider.storage.db import migrate

    settings = load_settings()
    _run(migrate(settings.database_url))
    print("migrations applied")


def cmd_keys_list(args: argparse.Namespace) -> None:
    from provider.oauth.key_admin import signing_keys

    rows = [
        {
            "kid": key.kid,
            "alg": key.alg,
            "state": key.state,
            "active_from": key.active_from.isoformat(),
        }
        for key in signing_keys(load_settings())
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['kid']}  {row['alg']:<7}  {row['state']:<8}  active from {row['active_from']}")


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from provider.crypto.keys import read_keys, rotate

    settings = load_settings()
    delay = settings.key_activation_delay if args.delay is None else args.delay
    if delay < 0:
        raise CliError("--delay must be zero or more seconds")
    if args.if_missing and settings.keys_dir.exists():
        existing = [r for r in read_keys(settings.keys_dir) if r.alg == args.alg]
        if existing:
            print(f"{args.alg} key {existing[-1].kid} exists; nothing to do")
            return
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
    from provider.domain_errors import DomainError
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
    except DomainError as exc:
        detail = f" ({json.dumps(exc.details)})" if exc.details else ""
        raise CliError(f"{exc.message}{detail}") from exc
    finally:
        await events.drain()
        await cache.close()
        passwords.close()
        await close_database()


def cmd_clients_add(args: argparse.Namespace) -> None:
    from provider.oauth.clients import ClientSpec

    settings = load_settings()
    grant_types = args.grant_type or ["authorization_code", "refresh_token"]
    jwks = None
    if args.jwks_file:
        try:
            jwks = json.loads(Path(args.jwks_file).read_text())
        except (OSError, ValueError) as exc:
            raise CliError(f"--jwks-file: {exc}") from exc
    spec = ClientSpec(
        name=args.name,
        redirect_uris=args.redirect_uri or [],
        post_logout_redirect_uris=args.post_logout_redirect_uri or [],
        grant_types=grant_types,
        scopes=args.scope or [],
        public=args.public,
        first_party=args.first_party,
        introspect_any=args.introspect_any,
        auth_method=args.auth_method,
        id_token_alg=args.id_token_alg,
        audience=args.audience or "",
        jwks=jwks,
        jwks_uri=args.jwks_uri,
    )
    _run(_clients_add(settings, spec, args.json))


async def _clients_add(settings: Settings, spec: Any, as_json: bool) -> None:
    from provider.oauth.clients import ClientSpecError, create_client
    from provider.storage.db import close_database, open_database

    await open_database(settings.database_url)
    try:
        client, secret = await create_client(
            spec, settings.secret, settings.issuer, allow_private=settings.outbound_allow_private
        )
    except ClientSpecError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await close_database()
    if as_json:
        print(json.dumps({"client_id": client.id, "client_secret": secret, "name": client.name}))
    else:
        print(f"client_id:     {client.id}")
        if secret:
            print(f"client_secret: {secret}  (shown once; store it now)")


def cmd_clients_list(args: argparse.Namespace) -> None:
    settings = load_settings()
    _run(_clients_list(settings, args.json))


async def _clients_list(settings: Settings, as_json: bool) -> None:
    from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
    from provider.storage.clients import Clients
    from provider.storage.db import close_database, default_connection, open_database

    await open_database(settings.database_url)
    try:
        # As in the admin API, the built-in first-party app is not listed.
        clients = await Clients(default_connection()).everyone(hidden={FIRST_PARTY_CLIENT_ID})
    finally:
        await close_database()
    rows = [
        {
            "client_id": c.id,
            "name": c.name,
            "public": c.public,
            "auth_method": c.token_endpoint_auth_method,
            "grant_types": c.grant_types,
            "redirect_uris": c.redirect_uris,
            "disabled": c.disabled,
        }
        for c in clients
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = " (disabled)" if row["disabled"] else ""
        print(f"{row['client_id']}  {row['name']}  {row['auth_method']}{state}")


def cmd_clients_rotate_secret(args: argparse.Namespace) -> None:
    settings = load_settings()
    grace = settings.client_secret_grace_period if args.grace is None else args.grace
    if grace < 0:
        raise CliError("--grace must be zero or more seconds")
    _run(_clients_rotate(settings, args.client_id, grace, args.json))


async def _clients_rotate(settings: Settings, client_id: str, grace: int, as_json: bool) -> None:
    from provider.cache.fallback import build_cache
    from provider.oauth.clients import (
        ClientSpecError,
        announce_client_change,
        find_client,
        rotate_secret,
    )
    from provider.storage.db import close_database, open_database

    await open_database(settings.database_url)
    cache = build_cache(settings.redis_url)
    try:
        client = await find_client(client_id, include_disabled=True)
        if client is None:
            raise CliError(f"no client {client_id!r}")
        secret = await rotate_secret(client, settings.secret, grace)
        # The running workers' copies of the client hold the old secret.
        await announce_client_change(cache, client_id)
    except ClientSpecError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await cache.close()
        await close_database()
    if as_json:
        print(json.dumps({"client_id": client_id, "client_secret": secret, "grace_seconds": grace}))
    else:
        print(f"client_secret: {secret}  (the previous one works for {grace} more seconds)")


IDP_FIELDS = (
    "slug",
    "name",
    "kind",
    "client_id",
    "issuer",
    "authorize_url",
    "token_url",
    "userinfo_url",
    "emails_url",
    "enabled",
    "allow_signup",
    "trust_email",
)


def _idp_values(args: argparse.Namespace) -> dict[str, Any]:
    """The provider fields given on the command line (None: not given)."""
    values: dict[str, Any] = {name: getattr(args, name, None) for name in IDP_FIELDS}
    if args.scope:
        values["scopes"] = list(args.scope)
    if args.claim:
        pairs = [claim.partition("=") for claim in args.claim]
        if any(not name or not field for name, _, field in pairs):
            raise CliError("--claim takes CLAIM=FIELD, e.g. --claim sub=id")
        values["claims"] = {name: field for name, _, field in pairs}
    if args.client_secret_stdin:
        values["client_secret"] = sys.stdin.readline().rstrip("\r\n")
    elif args.client_secret is not None:
        values["client_secret"] = args.client_secret
    return values


def cmd_idps_add(args: argparse.Namespace) -> None:
    from provider.domain_errors import DomainError
    from provider.federation.providers import ProviderSpec, spec_from_preset

    values = _idp_values(args)
    try:
        if args.preset:
            spec = spec_from_preset(args.preset, **values)
        else:
            # A missing slug, name or kind is refused, with the reasons, by the use case.
            given: dict[str, Any] = {"slug": "", "name": "", "kind": ""}
            given.update({k: v for k, v in values.items() if v is not None})
            spec = ProviderSpec(**given)
    except DomainError as exc:
        raise CliError(refusal_text(exc)) from exc
    _run(_idps_change(load_settings(), "add", spec, args.json))


def cmd_idps_update(args: argparse.Namespace) -> None:
    values = {k: v for k, v in _idp_values(args).items() if k != "slug"}
    _run(_idps_change(load_settings(), "update", (args.slug, values), args.json))


def cmd_idps_remove(args: argparse.Namespace) -> None:
    _run(_idps_change(load_settings(), "remove", args.slug, args.json))


def cmd_idps_list(args: argparse.Namespace) -> None:
    _run(_idps_list(load_settings(), args.json))


async def _idps_change(settings: Settings, action: str, subject: Any, as_json: bool) -> None:
    """One of the admin use cases of provider.federation.providers, audited as the CLI."""
    from provider.domain_errors import DomainError
    from provider.federation import providers

    async with cli_use_case(settings) as (events, caller):
        try:
            if action == "add":
                view = await providers.add_provider(
                    settings, events, caller, subject, actor_id=None
                )
            elif action == "update":
                slug, changes = subject
                view = await providers.update_provider(
                    settings, events, caller, slug, changes, actor_id=None
                )
            else:
                await providers.remove_provider(events, caller, subject, actor_id=None)
                print(json.dumps({"deleted": subject}) if as_json else f"removed {subject}")
                return
        except DomainError as exc:
            raise CliError(refusal_text(exc)) from exc
    _print_idps([view.to_dict()], as_json, single=True)


async def _idps_list(settings: Settings, as_json: bool) -> None:
    from provider.federation.providers import list_providers
    from provider.storage.db import close_database, open_database

    await open_database(settings.database_url)
    try:
        views = await list_providers()
    finally:
        await close_database()
    _print_idps([view.to_dict() for view in views], as_json, single=False)


def _print_idps(rows: list[dict[str, Any]], as_json: bool, *, single: bool) -> None:
    if as_json:
        print(json.dumps(rows[0] if single else rows))
        return
    for row in rows:
        flags = [name for name in ("enabled", "allow_signup", "trust_email") if row[name]]
        where = row["issuer"] or row["authorize_url"]
        shown = "offered" if row["offered"] else "not offered"
        print(f"{row['slug']:<16} {row['kind']:<6} {shown:<11} {where}  {' '.join(flags)}")


def _idp_options(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    if adding:
        parser.add_argument("--preset", choices=["github", "gitlab", "google", "microsoft"])
        parser.add_argument("--slug", help="default: the preset's name")
        parser.add_argument("--kind", choices=["oidc", "oauth2"])
    parser.add_argument("--name", help="shown on the button: Continue with NAME")
    parser.add_argument("--client-id", help="empty: the provider is kept but not offered")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--client-secret", help="sealed at rest (prefer --client-secret-stdin)")
    secret.add_argument(
        "--client-secret-stdin", action="store_true", help="read the client secret from stdin"
    )
    parser.add_argument("--scope", action="append", help="repeat for each scope")
    parser.add_argument("--issuer", help="oidc: discovery at ISSUER/.well-known/…")
    parser.add_argument("--authorize-url")
    parser.add_argument("--token-url")
    parser.add_argument("--userinfo-url")
    parser.add_argument("--emails-url", help="oauth2: GitHub's /user/emails")
    parser.add_argument(
        "--claim", action="append", help="oauth2: CLAIM=FIELD of the userinfo (sub=id, …)"
    )
    default = True if adding else None
    parser.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=default)
    for flag, text in (
        ("--allow-signup", "create accounts for unknown users"),
        ("--trust-email", "link to an account by the upstream's verified email"),
    ):
        parser.add_argument(
            flag,
            action=argparse.BooleanOptionalAction,
            default=False if adding else None,
            help=text,
        )
    parser.add_argument("--json", action="store_true")


def cmd_demo(args: argparse.Namespace) -> None:
    from provider.demo import DemoUnavailable, run_demo

    settings = load_settings()
    try:
        run_demo(settings, args.port)
    except DemoUnavailable as exc:
        raise CliError(str(exc)) from exc


def _resource_values(args: argparse.Namespace) -> dict[str, Any]:
    """The resource server fields given on the command line; absent ones are left out."""
    values: dict[str, Any] = {}
    if args.name is not None:
        values["name"] = args.name
    if args.scope is not None:
        values["scopes"] = list(args.scope)
    if args.ttl is not None:
        values["access_token_ttl"] = args.ttl
    if args.alg is not None:
        values["signing_alg"] = args.alg
    if args.any_client:
        values["allowed_clients"] = None
    elif args.allowed_client is not None:
        values["allowed_clients"] = list(args.allowed_client)
    return values


def cmd_resources_add(args: argparse.Namespace) -> None:
    from provider.oauth.resource_admin import ResourceSpec

    values = _resource_values(args)
    spec = ResourceSpec(identifier=args.identifier, **{"name": "", **values})
    _run(_resources_change(load_settings(), "add", spec, args.json))


def cmd_resources_update(args: argparse.Namespace) -> None:
    values = _resource_values(args)
    if not values:
        raise CliError("give at least one option to change")
    _run(_resources_change(load_settings(), "update", (args.identifier, values), args.json))


def cmd_resources_remove(args: argparse.Namespace) -> None:
    _run(_resources_change(load_settings(), "remove", args.identifier, args.json))


def cmd_resources_list(args: argparse.Namespace) -> None:
    _run(_resources_list(load_settings(), args.json))


async def _resources_change(settings: Settings, action: str, subject: Any, as_json: bool) -> None:
    """One of the admin use cases of provider.oauth.resource_admin, audited as the CLI."""
    from provider.domain_errors import DomainError
    from provider.oauth import resource_admin

    async with cli_use_case(settings) as (events, caller):
        try:
            if action == "add":
                resource = await resource_admin.add_resource(
                    settings, events, caller, subject, actor_id=None
                )
            elif action == "update":
                identifier, changes = subject
                current = await resource_admin.resource_by_identifier(identifier)
                resource = await resource_admin.update_resource(
                    settings, events, caller, current, changes, actor_id=None
                )
            else:
                current = await resource_admin.resource_by_identifier(subject)
                await resource_admin.remove_resource(events, caller, current, actor_id=None)
                print(json.dumps({"deleted": subject}) if as_json else f"removed {subject}")
                return
        except DomainError as exc:
            raise CliError(refusal_text(exc)) from exc
    _print_resources([resource_admin.describe(resource)], as_json, single=True)


async def _resources_list(settings: Settings, as_json: bool) -> None:
    from provider.oauth.resource_admin import describe, list_resources
    from provider.storage.db import close_database, open_database

    await open_database(settings.database_url)
    try:
        rows = [describe(resource) for resource in await list_resources()]
    finally:
        await close_database()
    _print_resources(rows, as_json, single=False)


def _print_resources(rows: list[dict[str, Any]], as_json: bool, *, single: bool) -> None:
    if as_json:
        print(json.dumps(rows[0] if single else rows))
        return
    for row in rows:
        clients = (
            "any client" if row["allowed_clients"] is None else ",".join(row["allowed_clients"])
        )
        print(
            f"{row['identifier']}  {row['name']}  {row['signing_alg']}  "
            f"scopes={' '.join(row['scopes']) or '-'}  {clients}"
        )


def _resource_options(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("identifier", help="absolute URI without a fragment: the tokens' aud")
    parser.add_argument("--name", required=adding)
    parser.add_argument("--scope", action="append", help="a scope it defines (repeat)")
    parser.add_argument("--ttl", type=int, help="access-token lifetime in seconds")
    parser.add_argument("--alg", choices=["RS256", "ES256"], help="access-token signing alg")
    parser.add_argument(
        "--allowed-client", action="append", help="a client that may ask for it (repeat)"
    )
    parser.add_argument("--any-client", action="store_true", help="any client may ask for it")
    parser.add_argument("--json", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="provider", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service (applies migrations first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    demo = commands.add_parser(
        "demo", help="register a demo client and run the example web app that signs in with it"
    )
    demo.add_argument("--port", type=int, default=8001, help="the demo app's port")
    demo.set_defaults(func=cmd_demo)

    keys = commands.add_parser("keys", help="signing keys").add_subparsers(
        dest="keys", required=True
    )
    keys_list = keys.add_parser("list", help="list keys and their state")
    keys_list.add_argument("--json", action="store_true")
    keys_list.set_defaults(func=cmd_keys_list)
    keys_rotate = keys.add_parser("rotate", help="add the next signing key")
    keys_rotate.add_argument("--alg", choices=["RS256", "ES256", "Ed25519"], default="RS256")
    keys_rotate.add_argument("--delay", type=int, help="seconds before it signs")
    keys_rotate.add_argument(
        "--if-missing",
        action="store_true",
        help="only when the folder holds no key of this algorithm yet (first deployment)",
    )
    keys_rotate.set_defaults(func=cmd_keys_rotate)

    clients = commands.add_parser("clients", help="relying parties").add_subparsers(
        dest="clients", required=True
    )
    clients_add = clients.add_parser("add", help="register a client")
    clients_add.add_argument("--name", required=True)
    clients_add.add_argument("--redirect-uri", action="append")
    clients_add.add_argument("--post-logout-redirect-uri", action="append")
    clients_add.add_argument(
        "--grant-type",
        action="append",
        choices=["authorization_code", "refresh_token", "client_credentials"],
    )
    clients_add.add_argument("--scope", action="append")
    clients_add.add_argument("--public", action="store_true")
    clients_add.add_argument("--first-party", action="store_true")
    clients_add.add_argument(
        "--introspect-any",
        action="store_true",
        help="may introspect tokens issued to other clients (a trusted resource server)",
    )
    clients_add.add_argument(
        "--auth-method",
        choices=["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
    )
    clients_add.add_argument(
        "--id-token-alg", choices=["RS256", "ES256", "Ed25519"], default="RS256"
    )
    clients_add.add_argument("--audience", help="aud of its access tokens (default: the client id)")
    clients_add.add_argument("--jwks-file", help="public JWKS for private_key_jwt")
    clients_add.add_argument("--jwks-uri", help="https URL of its JWKS for private_key_jwt")
    clients_add.add_argument("--json", action="store_true")
    clients_add.set_defaults(func=cmd_clients_add)
    clients_list = clients.add_parser("list", help="list clients")
    clients_list.add_argument("--json", action="store_true")
    clients_list.set_defaults(func=cmd_clients_list)
    clients_rotate = clients.add_parser("rotate-secret", help="issue a new client secret")
    clients_rotate.add_argument("client_id")
    clients_rotate.add_argument("--grace", type=int, help="seconds the old secret still works")
    clients_rotate.add_argument("--json", action="store_true")
    clients_rotate.set_defaults(func=cmd_clients_rotate_secret)

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

    idps = commands.add_parser("idps", help="upstream identity providers").add_subparsers(
        dest="idps", required=True
    )
    idps_add = idps.add_parser("add", help="add a provider, from a preset or in full")
    _idp_options(idps_add, adding=True)
    idps_add.set_defaults(func=cmd_idps_add)
    idps_list = idps.add_parser("list", help="list providers (never their secrets)")
    idps_list.add_argument("--json", action="store_true")
    idps_list.set_defaults(func=cmd_idps_list)
    idps_update = idps.add_parser("update", help="change a provider; omitted options are kept")
    idps_update.add_argument("slug")
    _idp_options(idps_update, adding=False)
    idps_update.set_defaults(func=cmd_idps_update)
    idps_remove = idps.add_parser("remove", help="remove a provider and every link to it")
    idps_remove.add_argument("slug")
    idps_remove.add_argument("--json", action="store_true")
    idps_remove.set_defaults(func=cmd_idps_remove)
    resources = commands.add_parser(
        "resources", help="resource servers (APIs) tokens can be asked for (RFC 8707)"
    ).add_subparsers(dest="resources", required=True)
    resources_add = resources.add_parser("add", help="register a resource server")
    _resource_options(resources_add, adding=True)
    resources_add.set_defaults(func=cmd_resources_add)
    resources_list = resources.add_parser("list", help="list resource servers")
    resources_list.add_argument("--json", action="store_true")
    resources_list.set_defaults(func=cmd_resources_list)
    resources_update = resources.add_parser("update", help="change one; omitted options are kept")
    _resource_options(resources_update, adding=False)
    resources_update.set_defaults(func=cmd_resources_update)
    resources_remove = resources.add_parser("remove", help="remove a resource server")
    resources_remove.add_argument("identifier")
    resources_remove.add_argument("--json", action="store_true")
    resources_remove.set_defaults(func=cmd_resources_remove)
    add_role_commands(commands, users, clients, roles_runner(load_settings))
    add_registration_commands(commands, load_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], None] = args.func
    try:
        handler(args)
    except (CliError, RolesCliError, RegistrationCliError) as exc:
        print(f"provider: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from provider.crypto.keys import KeyUnusable

        if isinstance(exc, KeyUnusable | OSError):
            print(f"provider: {exc}", file=sys.stderr)
            return 1
        raise
    return 0
