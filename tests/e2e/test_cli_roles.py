"""`python -m provider roles|groups|users set-access|clients role-filter|group-filter`: app
roles from the command line, through the admin API's use cases."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from provider.storage.models import AppGroup, AppRole, AuditEvent, Client
from tests.e2e.test_cli import run_cli
from tests.oidc import register_client
from tests.support import register

pytestmark = pytest.mark.e2e


async def test_roles_groups_and_access_from_the_command_line(
    base_env: dict[str, str], clean: None, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    user = await register(client, username="ada")
    rp = await register_client()

    async def cli(*args: str) -> dict[str, object]:
        result = await run_cli(*args, env=base_env, cwd=tmp_path)
        assert result.code == 0, result.stderr
        parsed: dict[str, object] = json.loads(result.stdout)
        return parsed

    assert await cli("roles", "add", "billing:admin", "--description", "Billing admins") == {
        "name": "billing:admin",
        "description": "Billing admins",
    }
    await cli("roles", "add", "wiki:editor")
    assert await cli("groups", "add", "staff", "--roles", "wiki:editor") == {
        "name": "staff",
        "roles": ["wiki:editor"],
    }
    access = await cli(
        "users", "set-access", "ada", "--roles", "billing:admin", "--groups", "staff"
    )
    assert access == {
        "user": user["id"],
        "roles": ["billing:admin"],
        "groups": ["staff"],
        "effective_roles": ["billing:admin", "wiki:editor"],
    }
    await cli("clients", "role-filter", rp.client_id, "--prefix", "billing:")
    stored = await Client.get(id=rp.client_id)
    assert (stored.app_role_prefix, stored.app_role_names) == ("billing:", None)
    assert await cli("clients", "group-filter", rp.client_id, "--names", "staff, ops") == {
        "client_id": rp.client_id,
        "prefix": "",
        "names": ["staff", "ops"],
    }
    stored = await Client.get(id=rp.client_id)
    assert (stored.app_group_prefix, stored.app_group_names) == ("", ["ops", "staff"])
    listed = await cli("roles", "list")
    assert listed["groups"] == [{"name": "staff", "roles": ["wiki:editor"], "members": 1}]
    changed = await AuditEvent.get(event="user.roles_changed", user_id=user["id"])
    assert changed.details["changed_by"] == "cli"

    refused = await run_cli("roles", "add", "bad name", env=base_env, cwd=tmp_path)
    assert refused.code == 2
    assert refused.lines[0].startswith("provider: Some fields are not acceptable.")
    unknown = await run_cli(
        "users", "set-access", "ada", "--roles", "nope", env=base_env, cwd=tmp_path
    )
    assert unknown.code == 2
    assert await AppRole.all().count() == 2
    assert await AppGroup.all().count() == 1
