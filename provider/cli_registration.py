"""`provider registration-tokens create|list|revoke`: initial access tokens for dynamic client
registration (RFC 7591 §3), through the use cases the admin API and console call
(`provider.oauth.initial_access_tokens`)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from provider.cli_context import cli_use_case

if TYPE_CHECKING:
    from provider.cache.events import EventPublisher
    from provider.config import Settings
    from provider.context import Caller

Action = Callable[["Settings", "EventPublisher", "Caller", argparse.Namespace], Awaitable[Any]]


class RegistrationCliError(Exception):
    """A one-line reason for a non-zero exit (shown by provider.cli)."""


async def _run(settings: Settings, action: Action, args: argparse.Namespace) -> None:
    from provider.domain_errors import DomainError

    async with cli_use_case(settings) as (events, caller):
        try:
            print(json.dumps(await action(settings, events, caller, args)))
        except DomainError as exc:
            raise RegistrationCliError(exc.message) from exc


async def _create(
    settings: Settings, events: EventPublisher, caller: Caller, args: argparse.Namespace
) -> Any:
    from provider.http.admin_views import initial_access_token_view
    from provider.oauth.initial_access_tokens import mint_initial_access_token

    minted = await mint_initial_access_token(
        settings, events, caller, uses=args.uses, ttl=args.ttl, note=args.note, created_by="cli"
    )
    # Shown once: only its hash is stored.
    return {**initial_access_token_view(minted.row), "initial_access_token": minted.token}


async def _list(
    settings: Settings, events: EventPublisher, caller: Caller, args: argparse.Namespace
) -> Any:
    from provider.http.admin_views import initial_access_token_view
    from provider.oauth.initial_access_tokens import initial_access_tokens

    return [initial_access_token_view(row) for row in await initial_access_tokens()]


async def _revoke(
    settings: Settings, events: EventPublisher, caller: Caller, args: argparse.Namespace
) -> Any:
    from provider.oauth.initial_access_tokens import revoke_initial_access_token

    await revoke_initial_access_token(events, caller, args.id, by="cli")
    return {"revoked": True, "id": args.id}


def add_commands(commands: Any, load_settings: Callable[[], Settings]) -> None:
    """Add `registration-tokens` to the parser of provider.cli."""

    def run(action: Action) -> Callable[[argparse.Namespace], None]:
        def handler(args: argparse.Namespace) -> None:
            asyncio.run(_run(load_settings(), action, args))

        return handler

    tokens = commands.add_parser(
        "registration-tokens", help="initial access tokens for dynamic client registration"
    ).add_subparsers(dest="registration_tokens", required=True)
    create = tokens.add_parser("create", help="mint a token (printed once)")
    create.add_argument("--uses", type=int, default=1, help="registrations it allows")
    create.add_argument("--ttl", type=int, help="seconds it is valid (default: the setting)")
    create.add_argument("--note", default="", help="what or whom it is for")
    create.set_defaults(func=run(_create))
    tokens.add_parser("list", help="list tokens (never the tokens themselves)").set_defaults(
        func=run(_list)
    )
    revoke = tokens.add_parser("revoke", help="delete a token before it is used up")
    revoke.add_argument("id")
    revoke.set_defaults(func=run(_revoke))
