"""CSRF protection for every form: a signed double-submit token.

A random value lives in an HttpOnly cookie; forms carry HMAC(secret, value). A cross-site page
can neither read the form token nor set our (`__Host-`) cookie, so it cannot forge a pair.
"""

from __future__ import annotations

import hmac

from sanic import Request
from sanic.response import BaseHTTPResponse

from provider.config import Settings
from provider.crypto.tokens import keyed_hash, new_token
from provider.http.cookies import CSRF_COOKIE, cookie_name, set_cookie
from provider.http.errors import ApiError
from provider.i18n.catalogues import N_


def _token_for(settings: Settings, value: str) -> str:
    return keyed_hash(settings.secret, "csrf:" + value, length=64)


def csrf_token(request: Request, settings: Settings) -> str:
    """The form token for this browser; creates the cookie value on first use."""
    value = request.cookies.get(cookie_name(settings, CSRF_COOKIE))
    if not value or len(value) > 128:
        value = getattr(request.ctx, "new_csrf_cookie", None) or new_token()
        request.ctx.new_csrf_cookie = value
    return _token_for(settings, value)


def attach_csrf_cookie(request: Request, response: BaseHTTPResponse, settings: Settings) -> None:
    value = getattr(request.ctx, "new_csrf_cookie", None)
    if value:
        set_cookie(response, settings, CSRF_COOKIE, value, max_age=None)


def verify_csrf(request: Request, settings: Settings, presented: str | None) -> None:
    """400 and no state change when the form token is missing or does not match the cookie."""
    value = request.cookies.get(cookie_name(settings, CSRF_COOKIE))
    if not value or not presented or len(value) > 128:
        raise ApiError(400, "csrf_failed", N_("The form expired or was not sent from this site."))
    if not hmac.compare_digest(_token_for(settings, value), presented):
        raise ApiError(400, "csrf_failed", N_("The form expired or was not sent from this site."))
