"""POST /login/passkey: the hosted sign-in with a passkey, from the login page's button or the
browser's autofill (provider/web/static/passkeys.js).

The ceremony was started by the login page, its token in this browser's HttpOnly cookie; the
use case is the password's `sign_in` with a passkey in its place (provider.accounts.sign_in.
sign_in_with_passkey): the same limits, lockout, audit and session, then on into the flow,
to `next`, or to the second step when the passkey did not verify the user and TOTP is on.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.passkey_authentication import PasskeyAnswer
from provider.accounts.sign_in import SecondFactorRequired, sign_in_with_passkey
from provider.domain_errors import AccountDisabled, DomainError
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import http_status
from provider.web.common import with_headers
from provider.web.login import login_page
from provider.web.passkey_ceremony import ceremony_of
from provider.web.signin import (
    after_sign_in,
    browser_sign_in,
    posted_sign_in,
    to_second_factor,
)

bp = Blueprint("web_passkey_sign_in")


@bp.post("/login/passkey")
async def submit_passkey(request: Request) -> HTTPResponse:
    services = services_of(request)
    posted = await posted_sign_in(request)
    if isinstance(posted, HTTPResponse):
        return posted
    form, flow, next_path = posted.form, posted.flow, posted.next_path
    # An oversized or malformed credential is refused by the use case, after it is counted.
    answer = PasskeyAnswer(ceremony_of(request), form.get("credential") or "")
    browser = await browser_sign_in(request)
    try:
        outcome = await sign_in_with_passkey(
            services, caller_of(request), lambda: answer, start=browser.session_start(flow)
        )
    except DomainError as exc:
        response = await login_page(
            request,
            flow,
            error=exc.message,
            status=http_status(exc),
            next_path=next_path,
            restorable=isinstance(exc, AccountDisabled),
        )
        return with_headers(response, exc)
    if isinstance(outcome, SecondFactorRequired):
        return to_second_factor(request, outcome.challenge, flow=flow, next_path=next_path)
    return await after_sign_in(request, outcome.login, browser, flow=flow, next_path=next_path)
