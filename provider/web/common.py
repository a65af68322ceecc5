"""Helpers shared by the hosted pages: local return paths, signed-in pages, errors as pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.domain_errors import DomainError
from provider.http.context import services_of
from provider.http.cookies import browser_session
from provider.http.csrf import verify_csrf
from provider.http.errors import http_headers
from provider.http.params import form_params
from provider.i18n.catalogues import N_
from provider.storage.models import Session

EXPIRED = N_("This sign-in request has expired. Go back to the application and try again.")


class FormIncomplete(Exception):
    """A hosted form lacks what the JSON API's schema would require, field by field.

    Raised by the `read` function that a use case calls after counting the request's arrival,
    so a refused form spends the rate-limit budget as a refused JSON body does.
    """

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("the form is incomplete")
        self.problems = problems


def local_path(value: str | None) -> str | None:
    """`value` if it is a path on this site: "/x", never "//host", "/\\host" or control bytes."""
    if not value or len(value) > 512 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        return None
    return value


def return_to(values: dict[str, str]) -> dict[str, str | None]:
    """Where a page linked from the sign-in page leads back to: its flow id or local `next`."""
    flow = values.get("flow") or ""
    return {"flow": flow if 0 < len(flow) <= 64 else None, "next": local_path(values.get("next"))}


def return_to_from_query(request: Request) -> dict[str, str | None]:
    """`return_to` for a page opened by a link that carries `flow` or `next`."""
    return return_to({name: request.args.get(name) or "" for name in ("flow", "next")})


def page_url(path: str, **params: str | None) -> str:
    """`path` with the given query parameters, leaving out those that are None or empty."""
    present = {name: value for name, value in params.items() if value}
    return f"{path}?{urlencode(present)}" if present else path


def resume_url(flow_id: str) -> str:
    return page_url("/authorize/resume", flow=flow_id)


def with_headers(response: HTTPResponse, exc: DomainError) -> HTTPResponse:
    """The error's own headers (Retry-After of a rate limit) on the page that shows it."""
    for name, value in http_headers(exc).items():
        response.headers[name] = value
    return response


async def signed_in_or_redirect(request: Request, back: str = "/account") -> Session | HTTPResponse:
    """The browser's live session, or a redirect to sign in first and then return.

    A GET comes back to itself; a form post cannot be replayed, so it comes back to `back`.
    """
    session = await browser_session(request, services_of(request).settings)
    if session is not None:
        return session
    target = back
    if request.method == "GET":
        target = request.path + ("?" + request.query_string if request.query_string else "")
    return redirect(page_url("/login", next=local_path(target) or back), status=303)


@dataclass(frozen=True, slots=True)
class SignedInForm:
    """A form posted from the browser's live session, its CSRF token checked."""

    session: Session
    form: dict[str, str]


async def signed_in_form(request: Request, back: str) -> SignedInForm | HTTPResponse:
    """The session and the form of an account page's post, or the redirect to sign in first
    (which comes back to `back`: a post cannot be replayed)."""
    found = await signed_in_or_redirect(request, back=back)
    if isinstance(found, HTTPResponse):
        return found
    form = form_params(request)
    verify_csrf(request, services_of(request).settings, form.get("csrf"))
    return SignedInForm(found, form)
