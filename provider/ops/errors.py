"""Every failure becomes the documented shape; tracebacks go to the log, never to the client."""

from __future__ import annotations

import logging

from sanic import Request
from sanic.exceptions import MethodNotAllowed, SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from provider.domain_errors import DomainError, ProtocolRefusal
from provider.http.errors import ApiError, OAuthError, api_error, oauth_error
from provider.http.render import error_page, page
from provider.i18n.catalogues import N_
from provider.ops.protocol_errors import allow_header, head_too_large_status
from provider.ops.unavailable import RETRY_AFTER, family, is_unavailable
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
    414: "uri_too_long",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    431: "request_header_fields_too_large",
    503: "service_unavailable",
}


NO_PAGE = N_("There is no page at this address. Check the link, or start again from the home page.")


def _wants_html(request: Request) -> bool:
    """A browser navigating (Accept names text/html), as opposed to an API client."""
    return "text/html" in request.headers.get("accept", "")


def _request_id(request: Request) -> str:
    return getattr(request.ctx, "request_id", "-")


def _oauth_response(exc: OAuthError) -> HTTPResponse:
    """RFC 6749 §5.2: the error body, never cached."""
    headers = {"Cache-Control": "no-store", **exc.headers}
    return json_response(exc.body(), status=exc.status, headers=headers)


def install_error_handlers(app: App) -> None:
    @app.exception(ApiError)
    async def api_error_response(request: Request, exc: ApiError) -> HTTPResponse:
        return _api_response(request, exc)

    @app.exception(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> HTTPResponse:
        # Unless an adapter answered it otherwise (a page), a refusal of the domain answers as
        # the JSON API.
        return _api_response(request, api_error(exc))

    @app.exception(OAuthError)
    async def oauth_error_response(request: Request, exc: OAuthError) -> HTTPResponse:
        return _oauth_response(exc)

    @app.exception(ProtocolRefusal)
    async def protocol_refusal(request: Request, exc: ProtocolRefusal) -> HTTPResponse:
        return _oauth_response(oauth_error(exc))

    @app.exception(Exception)
    async def any_error(request: Request, exc: Exception) -> HTTPResponse:
        if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
            status = head_too_large_status(request, exc) or exc.status_code
            if status == 404 and _wants_html(request):
                return await _not_found_page(request)
            error = ApiError(status, _CODES.get(status, "invalid_request"), _message(exc, status))
            headers = dict(getattr(exc, "headers", None) or {})
            if isinstance(exc, MethodNotAllowed):
                allow = allow_header(app, request, exc)
                if allow:
                    headers["Allow"] = allow
            return json_response(error.body(_request_id(request)), status=status, headers=headers)
        if is_unavailable(exc):
            log.warning(
                "a store is unavailable on %s %s",
                request.method,
                request.path,
                extra={"err": type(exc).__name__},
            )
            return await _unavailable(request)
        log.exception("unhandled error on %s %s", request.method, request.path)
        error = ApiError(500, "internal_error", "Something went wrong on our side.")
        return json_response(error.body(_request_id(request)), status=500)


async def _not_found_page(request: Request) -> HTTPResponse:
    context = {"title": N_("Page not found"), "message": NO_PAGE, "home_link": True}
    return await page(request, "error.html", context, status=404)


def _api_response(request: Request, exc: ApiError) -> HTTPResponse:
    return json_response(exc.body(_request_id(request)), status=exc.status, headers=exc.headers)


async def _unavailable(request: Request) -> HTTPResponse:
    """503 + Retry-After (RFC 9110 §15.6.4) in the shape of the endpoint's family."""
    headers = {"Retry-After": RETRY_AFTER}
    kind = family(request.path)
    if kind == "oauth":
        # RFC 6749 §4.1.2.1 names the condition; the JSON endpoints answer it with a 503.
        body = OAuthError("temporarily_unavailable", "The service is briefly unavailable.").body()
        return json_response(body, status=503, headers={"Cache-Control": "no-store", **headers})
    if kind == "page":
        response = await error_page(
            request,
            N_("The service is temporarily unavailable. Please try again in a moment."),
            status=503,
            title=N_("Temporarily unavailable"),
        )
        response.headers.update(headers)
        return response
    error = ApiError(503, "service_unavailable", "The service is temporarily unavailable.")
    return json_response(error.body(_request_id(request)), status=503, headers=headers)


def _message(exc: SanicException, status: int) -> str:
    if status == 404:
        return "No such resource."
    if status == 405:
        return "This method is not allowed here."
    if status == 413:
        return "The request body is too large."
    if status == 414:
        return "The request line is too long."
    if status == 431:
        return "The request headers are too large."
    return "The request is malformed."
