"""`provider roles|groups …` and `provider users set-access`: the apps' roles and groups from the
command line, through the same use cases as the admin API (`provider.accounts.app_roles`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from provider.cli_context import cli_use_case, refusal_text

if TYPE_CHECKING:
    from provider.cache.events import EventPublisher
    from provider.config import Settings
    from provider.context import Caller

Action = Callable[["EventPublisher", "Caller", argparse.Namespace], Awaitable[Any]]


class RolesCliError(Exception):
    """A one-line reason for a non-zero exit (shown by provider.cli)."""


def _names(value: str | None) -> list[str] | None:
    """ "a,b c" → ["a", "b", "c"]; an empty string clears, None leaves as it is."""
    if value is None:
        return None
    return [name for name in value.replace(",", " ").split() if name]


async def _run(settings: Settings, action: Action, args: argparse.Namespace) -> None:
    from provider.domain_errors import DomainError

    async with cli_use_case(settings) as (events, caller):
        try:
            print(json.dumps(await action(events, caller, args)))
        except DomainError as exc:
            raise RolesCliError(refusal_text(exc)) from exc


async def _list_roles(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles

    roles = await app_roles.list_roles()
    groups = await app_roles.list_groups()
    return {
        "roles": [{"name": r.name, "description": r.description} for r in roles],
        "groups": [{"name": g.name, "roles": g.roles, "members": g.members} for g in groups],
    }


async def _add_role(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles

    role = await app_roles.create_role(events, caller, None, args.name, args.description)
    return {"name": role.name, "description": role.description}


async def _delete_role(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles

    await app_roles.delete_role(events, caller, None, args.name)
    return {"deleted": True, "name": args.name}


async def _add_group(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles

    await app_roles.create_group(events, caller, None, args.name, args.description)
    roles = _names(args.roles) or []
    if roles:
        await app_roles.set_group_roles(events, caller, None, args.name, roles)
    return {"name": args.name, "roles": sorted(set(roles))}


async def _group_roles(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles

    roles = await app_roles.set_group_roles(
        events, caller, None, args.name, _names(args.roles) or []
    )
    return {"name": args.name, "roles": roles}


async def _delete_group(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles

    await app_roles.delete_group(events, caller, None, args.name)
    return {"deleted": True, "name": args.name}


async def _set_access(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles
    from provider.accounts.users import find_by_identifier

    user = await find_by_identifier(args.user)
    if user is None:
        raise RolesCliError(f"no account {args.user}")
    access = await app_roles.set_user_access(
        events, caller, None, user.id, roles=_names(args.roles), groups=_names(args.groups)
    )
    return {
        "user": str(user.id),
        "roles": access.roles,
        "groups": access.groups,
        "effective_roles": access.effective_roles,
    }


async def _client_filter(events: EventPublisher, caller: Caller, args: argparse.Namespace) -> Any:
    from provider.accounts import app_roles

    names = _names(args.names)
    await app_roles.set_client_filter(
        events, caller, None, args.client_id, args.claim, prefix=args.prefix, names=names
    )
    return {"client_id": args.client_id, "prefix": args.prefix, "names": names}


def add_commands(
    commands: Any, users: Any, clients: Any, run: Callable[[Action], Callable[..., None]]
) -> None:
    """Add the subcommands to the parsers of provider.cli; `run` wraps an action for argparse."""
    roles = commands.add_parser("roles", help="roles of the organisation's apps").add_subparsers(
        dest="roles", required=True
    )
    roles.add_parser("list", help="list app roles and groups").set_defaults(func=run(_list_roles))
    role_add = roles.add_parser("add", help="define an app role")
    role_add.add_argument("name")
    role_add.add_argument("--description", default="")
    role_add.set_defaults(func=run(_add_role))
    role_delete = roles.add_parser("delete", help="delete an app role")
    role_delete.add_argument("name")
    role_delete.set_defaults(func=run(_delete_role))

    groups = commands.add_parser("groups", help="groups of the apps' users").add_subparsers(
        dest="groups", required=True
    )
    group_add = groups.add_parser("add", help="define a group")
    group_add.add_argument("name")
    group_add.add_argument("--description", default="")
    group_add.add_argument("--roles", help="roles it carries, comma or space separated")
    group_add.set_defaults(func=run(_add_group))
    group_roles = groups.add_parser("set-roles", help="set the roles a group carries")
    group_roles.add_argument("name")
    group_roles.add_argument("--roles", required=True, help="comma or space separated; '' clears")
    group_roles.set_defaults(func=run(_group_roles))
    group_delete = groups.add_parser("delete", help="delete a group")
    group_delete.add_argument("name")
    group_delete.set_defaults(func=run(_delete_group))

    access = users.add_parser("set-access", help="set a user's app roles and/or groups")
    access.add_argument("user", help="email or username")
    access.add_argument("--roles", help="comma or space separated; '' clears; absent keeps")
    access.add_argument("--groups", help="comma or space separated; '' clears; absent keeps")
    access.set_defaults(func=run(_set_access))

    for claim in ("roles", "groups"):
        kind = claim.removesuffix("s")
        name_filter = clients.add_parser(f"{kind}-filter", help=f"which app {claim} a client sees")
        name_filter.add_argument("client_id")
        name_filter.add_argument("--prefix", default="", help=f"{claim} whose name starts with it")
        name_filter.add_argument("--names", help=f"exactly these {claim} (wins over the prefix)")
        name_filter.set_defaults(func=run(_client_filter), claim=claim)


def runner(load_settings: Callable[[], Settings]) -> Callable[[Action], Callable[..., None]]:
    """Wrap an action as an argparse handler that opens and closes what it needs."""
    import asyncio

    def wrap(action: Action) -> Callable[[argparse.Namespace], None]:
        def handler(args: argparse.Namespace) -> None:
            asyncio.run(_run(load_settings(), action, args))

        return handler

    return wrap
