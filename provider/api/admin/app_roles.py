"""The roles and groups of the organisation's apps (admin): define them, give them to users and
groups, and choose which roles each client sees in its tokens."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts import app_roles
from provider.accounts.roles import ADMIN, READERS
from provider.api.admin.roles import require_role
from provider.http import api_doc
from provider.http.admin_params import path_uuid
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body
from provider.http.params import path_client_id
from provider.http.responses import ok
from provider.storage.app_access import FilteredClaim, UserAppAccess

bp = Blueprint("api_admin_app_roles", url_prefix="/v1/admin")

_NAMES = Field(default=None, max_length=200)


class NewName(StrictBody):
    name: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=512)


class RoleList(StrictBody):
    roles: list[str] = Field(max_length=200)


class UserAccessBody(StrictBody):
    """Either list replaces what the user has; one left out stays as it is."""

    roles: list[str] | None = _NAMES
    groups: list[str] | None = _NAMES


class NameFilterBody(StrictBody):
    """A client's filter: exactly `names` when given, else the names starting with `prefix`."""

    prefix: str = Field(default="", max_length=128)
    names: list[str] | None = _NAMES


def _access(access: UserAppAccess) -> dict[str, Any]:
    return {
        "roles": access.roles,
        "groups": access.groups,
        "effective_roles": access.effective_roles,
    }


@bp.get("/app-roles")
@api_doc.tag("admin")
@api_doc.summary("The roles of the organisation's apps (admin, auditor)")
@api_doc.secured("bearer")
async def list_roles(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    roles = await app_roles.list_roles()
    return ok({"roles": [{"name": r.name, "description": r.description} for r in roles]})


@bp.post("/app-roles")
@api_doc.tag("admin")
@api_doc.summary("Define an app role (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": NewName.model_json_schema()})
@api_doc.response(201, description="The role")
@api_doc.response(409, description="conflict: the name exists")
@api_doc.response(422, description="validation_failed")
async def create_role(request: Request) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, NewName)
    role = await app_roles.create_role(
        services_of(request).events, caller_of(request), auth.user, body.name, body.description
    )
    return ok({"name": role.name, "description": role.description}, status=201)


@bp.delete("/app-roles/<name:str>")
@api_doc.tag("admin")
@api_doc.summary("Delete an app role; its holders get user.roles_changed (admin)")
@api_doc.secured("bearer")
@api_doc.response(404, description="not_found")
async def delete_role(request: Request, name: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    await app_roles.delete_role(services_of(request).events, caller_of(request), auth.user, name)
    return ok({"deleted": True, "name": name})


@bp.get("/app-groups")
@api_doc.tag("admin")
@api_doc.summary("The groups, with the roles they carry and their member counts")
@api_doc.secured("bearer")
async def list_groups(request: Request) -> HTTPResponse:
    await require_role(request, *READERS)
    groups = await app_roles.list_groups()
    return ok(
        {
            "groups": [
                {
                    "name": g.name,
                    "description": g.description,
                    "roles": g.roles,
                    "members": g.members,
                }
                for g in groups
            ]
        }
    )


@bp.post("/app-groups")
@api_doc.tag("admin")
@api_doc.summary("Define a group (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": NewName.model_json_schema()})
@api_doc.response(201, description="The group")
@api_doc.response(409, description="conflict: the name exists")
@api_doc.response(422, description="validation_failed")
async def create_group(request: Request) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, NewName)
    await app_roles.create_group(
        services_of(request).events, caller_of(request), auth.user, body.name, body.description
    )
    return ok({"name": body.name, "description": body.description.strip()}, status=201)


@bp.delete("/app-groups/<name:str>")
@api_doc.tag("admin")
@api_doc.summary("Delete a group; its members get user.roles_changed (admin)")
@api_doc.secured("bearer")
@api_doc.response(404, description="not_found")
async def delete_group(request: Request, name: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    await app_roles.delete_group(services_of(request).events, caller_of(request), auth.user, name)
    return ok({"deleted": True, "name": name})


@bp.put("/app-groups/<name:str>/roles")
@api_doc.tag("admin")
@api_doc.summary("Set the roles a group carries; its members get user.roles_changed (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": RoleList.model_json_schema()})
@api_doc.response(404, description="not_found")
@api_doc.response(422, description="validation_failed: unknown roles")
async def set_group_roles(request: Request, name: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, RoleList)
    roles = await app_roles.set_group_roles(
        services_of(request).events, caller_of(request), auth.user, name, body.roles
    )
    return ok({"name": name, "roles": roles})


@bp.get("/users/<user_id:str>/app-access")
@api_doc.tag("admin")
@api_doc.summary("The user's app roles and groups (admin, auditor)")
@api_doc.secured("bearer")
@api_doc.response(404, description="not_found")
async def user_access(request: Request, user_id: str) -> HTTPResponse:
    await require_role(request, *READERS)
    return ok(_access(await app_roles.access_of(path_uuid(user_id))))


@bp.put("/users/<user_id:str>/app-access")
@api_doc.tag("admin")
@api_doc.summary("Set the user's app roles and/or groups; writes user.roles_changed (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": UserAccessBody.model_json_schema()})
@api_doc.response(404, description="not_found")
@api_doc.response(422, description="validation_failed: unknown roles or groups")
async def set_user_access(request: Request, user_id: str) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, UserAccessBody)
    access = await app_roles.set_user_access(
        services_of(request).events,
        caller_of(request),
        auth.user,
        path_uuid(user_id),
        roles=body.roles,
        groups=body.groups,
    )
    return ok(_access(access))


@bp.put("/clients/<client_id:str>/role-filter")
@api_doc.tag("admin")
@api_doc.summary("Which app roles a client sees: a list of names, else a name prefix (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": NameFilterBody.model_json_schema()})
@api_doc.response(404, description="not_found")
@api_doc.response(422, description="validation_failed")
async def set_role_filter(request: Request, client_id: str) -> HTTPResponse:
    return await _set_filter(request, client_id, "roles")


@bp.put("/clients/<client_id:str>/group-filter")
@api_doc.tag("admin")
@api_doc.summary("Which app groups a client sees: a list of names, else a name prefix (admin)")
@api_doc.secured("bearer")
@api_doc.body({"application/json": NameFilterBody.model_json_schema()})
@api_doc.response(404, description="not_found")
@api_doc.response(422, description="validation_failed")
async def set_group_filter(request: Request, client_id: str) -> HTTPResponse:
    return await _set_filter(request, client_id, "groups")


async def _set_filter(request: Request, segment: str, claim: FilteredClaim) -> HTTPResponse:
    auth = await require_role(request, *ADMIN)
    body = parse_body(request, NameFilterBody)
    client_id = path_client_id(segment)
    await app_roles.set_client_filter(
        services_of(request).events,
        caller_of(request),
        auth.user,
        client_id,
        claim,
        prefix=body.prefix,
        names=body.names,
    )
    return ok({"client_id": client_id, "prefix": body.prefix, "names": body.names})
