"""POST /v1/auth/passkeys/registration/options and /v1/auth/passkeys/registration: add a
passkey to the signed-in account, in two steps (WebAuthn L3 §7.1), after a recent sign-in.

The first answers the standard PublicKeyCredentialCreationOptionsJSON and a `ceremony` token,
bound to the caller's session; the app passes the options to navigator.credentials.create()
and sends the credential back with the token and, optionally, a name.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field
from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.passkeys import begin_passkey_registration, finish_passkey_registration
from provider.api.guard import require_session
from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.json_body import StrictBody, parse_body, refuse_body
from provider.http.responses import ok

bp = Blueprint("api_passkey_registration", url_prefix="/v1/auth")


class RegistrationBody(StrictBody):
    ceremony: str = Field(min_length=1, max_length=128, description="from the options step")
    credential: dict[str, Any] = Field(
        description="the PublicKeyCredential as JSON (RegistrationResponseJSON)"
    )
    name: str | None = Field(
        None, max_length=64, description="default: named after the authenticator"
    )


@bp.post("/passkeys/registration/options")
@api_doc.tag("passkeys")
@api_doc.summary("Start adding a passkey: PublicKeyCredentialCreationOptions and a ceremony")
@api_doc.secured("bearer")
@api_doc.response(200, description='{"ceremony", "options", "expires_in"}')
@api_doc.response(403, description="reauthentication_required")
async def options(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    refuse_body(request)
    services = services_of(request)
    started = await begin_passkey_registration(
        services, caller_of(request), auth.user, auth.session
    )
    return ok(
        {
            "ceremony": started.token,
            "options": json.loads(started.options),
            "expires_in": services.settings.passkey_challenge_ttl,
        }
    )


@bp.post("/passkeys/registration")
@api_doc.tag("passkeys")
@api_doc.summary("Finish adding a passkey; returns it")
@api_doc.secured("bearer")
@api_doc.body({"application/json": RegistrationBody.model_json_schema()})
@api_doc.response(201, description="the passkey: id, name, created_at, last_used_at, synced")
@api_doc.response(400, description="invalid_passkey or invalid_passkey_challenge")
@api_doc.response(403, description="reauthentication_required")
@api_doc.response(409, description="passkey_exists")
async def finish(request: Request) -> HTTPResponse:
    auth = await require_session(request)
    body = parse_body(request, RegistrationBody)
    added = await finish_passkey_registration(
        services_of(request),
        caller_of(request),
        auth.user,
        auth.session,
        ceremony=body.ceremony,
        response=json.dumps(body.credential),
        name=body.name,
    )
    return ok(added.to_dict(), status=201)
