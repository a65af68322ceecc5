"""GET|POST /register: create an account on the hosted pages, then check the mail.

The rules are those of POST /v1/auth/register (provider.accounts.users.sign_up, the same rate
limit on the same counter): a plausible email, an optional username, the password policy. Each
refused field gets its reason next to it. An email that has an account already gets the same
"check your mail" page as a new one unless PROVIDER_REGISTRATION_REVEALS_EXISTING is set. `flow`
or `next` are carried, so the page after the form leads back to the sign-in the user came from.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.users import Registration, sign_up
from provider.domain_errors import DomainError, EmailTaken, UsernameTaken, ValidationFailed
from provider.http.blueprint import Blueprint
from provider.http.context import services_of
from provider.http.csrf import verify_csrf
from provider.http.errors import http_status
from provider.http.locale import page_caller
from provider.http.params import form_params
from provider.http.render import page
from provider.i18n.catalogues import N_, sentence
from provider.web.common import (
    FormIncomplete,
    page_url,
    return_to,
    return_to_from_query,
    with_headers,
)
from provider.web.federation import upstream_buttons

bp = Blueprint("web_register")

FIELDS = ("email", "name", "username")
# The bounds of the JSON API's RegisterBody.
MAX_LENGTHS = {"email": 254, "name": 200, "username": 64, "password": 256}
CONFLICT_FIELDS: dict[type[DomainError], str] = {EmailTaken: "email", UsernameTaken: "username"}


async def _form_page(
    request: Request,
    back: dict[str, str | None],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await page(
        request,
        "register.html",
        {
            **back,
            "values": values or {},
            "errors": errors or {},
            "error": error,
            "login_url": page_url("/login", **back),
            "upstream": await upstream_buttons(back["flow"], back["next"]),
        },
        status=status,
    )


@bp.get("/register")
async def register_form(request: Request) -> HTTPResponse:
    return await _form_page(request, return_to_from_query(request))


@bp.post("/register")
async def submit_registration(request: Request) -> HTTPResponse:
    services = services_of(request)
    settings = services.settings
    form = form_params(request)
    verify_csrf(request, settings, form.get("csrf"))
    back = return_to(form)
    values = {name: form.get(name, "") for name in FIELDS}
    try:
        # The use case of POST /v1/auth/register: its limit counts this form before it is read.
        registered = await sign_up(
            services, await page_caller(request), lambda: _registration(form)
        )
    except FormIncomplete as exc:
        return await _form_page(request, back, values=values, errors=exc.problems, status=400)
    except ValidationFailed as exc:
        errors = {name: list(reasons) for name, reasons in exc.problems.items()}
        return await _form_page(
            request, back, values=values, errors=errors, status=http_status(exc)
        )
    except (EmailTaken, UsernameTaken) as exc:
        errors = {CONFLICT_FIELDS[type(exc)]: [exc.message]}
        return await _form_page(
            request, back, values=values, errors=errors, status=http_status(exc)
        )
    except DomainError as exc:
        failed = await _form_page(
            request, back, values=values, error=exc.message, status=http_status(exc)
        )
        return with_headers(failed, exc)
    user = registered.user
    return await page(
        request,
        "notice.html",
        {
            "title": N_("Check your mail"),
            "message": sentence(
                "We sent a link to %(email)s. Open it to verify your address.", email=user.email
            ),
            "links": [(page_url("/login", **back), N_("Continue to sign in"))],
        },
    )


def _registration(form: dict[str, str]) -> Registration:
    errors = _bounds(form)
    if errors:
        raise FormIncomplete(errors)
    return Registration(
        email=form.get("email", ""),
        password=form.get("password", ""),
        name=form.get("name", ""),
        username=form.get("username", "") or None,
    )


def _bounds(form: dict[str, str]) -> dict[str, list[str]]:
    """What the JSON API's schema refuses before any rule: missing or over-long fields."""
    errors: dict[str, list[str]] = {}
    for name in ("email", "password"):
        if not form.get(name):
            errors[name] = ["is required"]
    for name, limit in MAX_LENGTHS.items():
        if len(form.get(name, "")) > limit:
            errors.setdefault(name, []).append(f"must be at most {limit} characters")
    return errors
