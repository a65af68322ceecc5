"""GET|POST /authorize (RFC 6749 §4.1.1, OIDC Core §3.1.2), and its resumption after a page."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.domain_errors import RateLimited, UntrustedAuthorizationRequest
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import OAuthError, http_headers, http_status
from provider.http.params import form_params, form_resources, query_params, query_resources
from provider.http.render import error_page
from provider.i18n.catalogues import N_
from provider.oauth.authorization_request import (
    AuthorizationRefused,
    load_client_and_redirect,
    validate_request,
)
from provider.oauth.flows import load_flow, new_flow
from provider.protocol.authorization_response import respond_error
from provider.protocol.authorize_flow import proceed

bp = Blueprint("authorize")


async def authorize(request: Request) -> HTTPResponse:
    services = services_of(request)
    try:
        # OIDC Core §3.1.2.1: the OP MUST support both GET and POST (form-encoded).
        post = request.method == "POST"
        params = form_params(request) if post else query_params(request)
        resources = form_resources(request) if post else query_resources(request)
        client, redirect_uri = await load_client_and_redirect(services, caller_of(request), params)
    except (OAuthError, UntrustedAuthorizationRequest) as exc:
        return await error_page(request, str(exc))
    except RateLimited as exc:
        # Too many new metadata-document clients from this address; no redirect is trusted yet.
        response = await error_page(request, exc.message, status=http_status(exc))
        response.headers.update(http_headers(exc))
        return response
    try:
        auth = await validate_request(services, client, redirect_uri, params, resources)
    except AuthorizationRefused as exc:
        return await respond_error(
            request, exc.request, services.settings.issuer, exc.error, exc.description
        )
    if "openid" in auth.scopes and client.id_token_signed_response_alg not in (
        services.keystore.algorithms
    ):
        # No key can sign this client's ID tokens (an ES256 or Ed25519 client without such a
        # key): RFC 6749 §4.1.2.1 server_error now, rather than a 500 after the user signed in.
        return await respond_error(
            request,
            auth,
            services.settings.issuer,
            "server_error",
            N_("The provider cannot sign ID tokens for this application."),
        )
    flow = await new_flow(services.cache, auth)
    return await proceed(request, services, flow)


# OIDC Core §3.1.2.1 / §5.3.1: both GET and POST are served.
bp.add_route(authorize, "/authorize", methods=["GET", "POST"])


@bp.get("/authorize/resume")
async def resume(request: Request) -> HTTPResponse:
    services = services_of(request)
    flow = await load_flow(services.cache, request.args.get("flow"))
    if flow is None:
        return await error_page(
            request, N_("This sign-in request has expired. Go back to the application and retry.")
        )
    return await proceed(request, services, flow)
