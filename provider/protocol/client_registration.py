"""POST /oauth/clients: dynamic client registration (RFC 7591 §3)."""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from provider.domain_errors import InvalidAccessToken, InvalidClientMetadata
from provider.http.bearer import bearer_token
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import ApiError, bearer_refusal, rate_limit_headers
from provider.http.json_body import holds_nul, json_object
from provider.oauth.dynamic_registration import RegistrationRequest, register_dynamic_client
from provider.protocol.client_information import NO_STORE, client_information

bp = Blueprint("client_registration")


def client_metadata(request: Request) -> dict[str, Any]:
    """The JSON body of a registration or update; a body that is no JSON object of metadata is
    `invalid_client_metadata` (RFC 7591 §3.2.2)."""
    try:
        metadata = json_object(request)
    except ApiError as exc:
        raise InvalidClientMetadata(exc.message) from exc
    if holds_nul(metadata):
        raise InvalidClientMetadata("The metadata must not contain NUL characters.")
    return metadata


@bp.post("/oauth/clients")
async def register(request: Request) -> HTTPResponse:
    services = services_of(request)

    def read() -> RegistrationRequest:
        return RegistrationRequest(client_metadata(request), bearer_token(request))

    try:
        registered = await register_dynamic_client(services, caller_of(request), read)
    except InvalidAccessToken as exc:
        raise bearer_refusal(exc) from exc
    body = client_information(
        registered.client,
        services.settings.issuer,
        registered.registration_access_token,
        registered.client_secret,
    )
    headers = {**NO_STORE, **rate_limit_headers(registered.allowance)}
    return json_response(body, status=201, headers=headers)
