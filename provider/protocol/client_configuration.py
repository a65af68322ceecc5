"""GET, PUT and DELETE /oauth/clients/<client_id>: a dynamically registered client reads,
replaces and deletes its registration with its registration access token (RFC 7592 §2)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, empty
from sanic.response import json as json_response

from provider.domain_errors import InvalidAccessToken
from provider.http.bearer import bearer_token
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import bearer_refusal
from provider.oauth.dynamic_registration import (
    Configuration,
    delete_client_configuration,
    read_client_configuration,
    update_client_configuration,
)
from provider.protocol.client_information import NO_STORE, client_information
from provider.protocol.client_registration import client_metadata

bp = Blueprint("client_configuration")


def _answer(request: Request, configuration: Configuration) -> HTTPResponse:
    issuer = services_of(request).settings.issuer
    body = client_information(configuration.client, issuer, configuration.registration_access_token)
    return json_response(body, headers=NO_STORE)


@bp.get("/oauth/clients/<client_id:str>")
async def read(request: Request, client_id: str) -> HTTPResponse:
    try:
        configuration = await read_client_configuration(
            services_of(request), caller_of(request), client_id, bearer_token(request)
        )
    except InvalidAccessToken as exc:
        raise bearer_refusal(exc) from exc
    return _answer(request, configuration)


@bp.put("/oauth/clients/<client_id:str>")
async def update(request: Request, client_id: str) -> HTTPResponse:
    try:
        configuration = await update_client_configuration(
            services_of(request),
            caller_of(request),
            client_id,
            bearer_token(request),
            lambda: client_metadata(request),
        )
    except InvalidAccessToken as exc:
        raise bearer_refusal(exc) from exc
    return _answer(request, configuration)


@bp.delete("/oauth/clients/<client_id:str>")
async def delete(request: Request, client_id: str) -> HTTPResponse:
    try:
        await delete_client_configuration(
            services_of(request), caller_of(request), client_id, bearer_token(request)
        )
    except InvalidAccessToken as exc:
        raise bearer_refusal(exc) from exc
    # RFC 7592 §2.3: 204 No Content.
    return empty(status=204, headers=NO_STORE)
