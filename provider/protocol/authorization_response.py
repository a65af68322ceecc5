"""Sending the result back to the client: query redirect or form_post, always with `iss`."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.http.render import new_script_nonce, page
from provider.oauth.authorization_request import AuthorizationRequest


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


async def respond(
    request: Request, auth: AuthorizationRequest, issuer: str, params: dict[str, str]
) -> HTTPResponse:
    """RFC 9207 §2: `iss` in every authorization response, success or error."""
    payload = dict(params)
    if auth.state is not None:
        payload["state"] = auth.state
    payload["iss"] = issuer
    if auth.response_mode == "form_post":
        nonce = new_script_nonce()
        return await page(
            request,
            "form_post.html",
            {"redirect_uri": auth.redirect_uri, "params": payload, "script_nonce": nonce},
            form_targets=[auth.redirect_uri],
            script_nonce=nonce,
        )
    response = redirect(_with_query(auth.redirect_uri, payload), status=302)
    response.headers["Cache-Control"] = "no-store"
    return response


async def respond_error(
    request: Request, auth: AuthorizationRequest, issuer: str, error: str, description: str
) -> HTTPResponse:
    return await respond(request, auth, issuer, {"error": error, "error_description": description})
