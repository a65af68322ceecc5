"""GET/DELETE /v1/auth/consents: the apps the user connected, and removing one's access."""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.params import path_client_id
from provider.http.responses import ok
from provider.oauth.connected_apps import connected_apps, remove_app_access
from provider.storage.connected_apps import ConnectedApp

bp = Blueprint("api_consents", url_prefix="/v1/auth")


def public_app(app: ConnectedApp) -> dict[str, Any]:
    return {
        "client_id": app.client_id,
        "client_name": app.client_name,
        "scopes": app.scopes,
        "granted_at": app.granted_at.isoformat(),
        "last_used_at": app.last_used_at.isoformat() if app.last_used_at else None,
    }


@bp.get("/consents")
@api_doc.tag("account")
@api_doc.summary("The apps the user has allowed, with their scopes, first and last use")
@api_doc.secured("bearer")
async def list_consents(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    apps = await connected_apps(auth.user)
    return ok({"consents": [public_app(app) for app in apps]})


@bp.delete("/consents/<client_id:str>")
@api_doc.tag("account")
@api_doc.summary("Remove an app's access: its consent, refresh tokens and access tokens")
@api_doc.secured("bearer")
@api_doc.response(200, description="The access is removed")
@api_doc.response(404, description="not_found: the user never connected this app")
async def delete_consent(request: Request, client_id: str) -> HTTPResponse:
    auth = await require_session(request)
    client_id = path_client_id(client_id)
    revoked = await remove_app_access(
        services_of(request), caller_of(request), auth.user, auth.session, client_id
    )
    return ok({"removed": True, "client_id": client_id, "revoked_refresh_tokens": revoked})
