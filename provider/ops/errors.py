"""Every failure becomes the documented shape; tracebacks go to the log, never to the client."""

from __future__ import annotations

import logging

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from provider.errors import ApiError, OAuthError
from provider.sanic_app import App

log = logging.getLogger("provider.errors")

_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    503: "service_unavailable",
}


def _request_id(request: Request) -> str:
    return getattr(request.ctx, "request_id", "-")


def install_error_handlers(app: App) -> None:
    @app.exception(ApiError)
    async def api_error(request: Request, exc: ApiError) -> HTTPResponse:
        return json_response(exc.body(_request_id(request)), status=exc.status, headers=exc.headers)

    @app.exception(OAuthError)
    async def oauth_error(request: Request, exc: OAuthError) -> HTTPResponse:
        headers = {"Cache-Control": "no-store", **exc.headers}
        return json_response(exc.body(), status=exc.status, headers=headers)

    @app.exception(Exception)
    async def any_error(request: Request, exc: Exception) -> HTTPResponse:
        if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
            status = exc.status_code
            error = ApiError(status, _CODES.get(status, "invalid_request"), _message(exc, status))
            headers = dict(getattr(exc, "headers", None) or {})
            return json_response(error.body(_request_id(request)), status=status, headers=headers)
        log.exception("unhandled error on %s %s", request.method, request.path)
        error = ApiError(500, "internal_error", "Something went wrong on our side.")
        return json_response(error.body(_request_id(request)), status=500)


def _message(exc: SanicException, status: int) -> str:
    if status == 404:
        return "No such resource."
    if status == 405:
        return "This method is not allowed here."
    if status == 413:
        return "The request body is too large."
    return "The request is malformed."
