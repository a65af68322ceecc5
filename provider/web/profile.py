"""/account/profile: the signed-in user edits their profile on a form.

The form sends every field; a blank one clears it. The rules are the core's
(`provider.accounts.profile.update_profile`), as for PATCH /v1/auth/me.
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect

from provider.accounts.profile import update_profile
from provider.accounts.profile_fields import ADDRESS_PARTS, TEXT_FIELDS
from provider.domain_errors import UsernameTaken, ValidationFailed
from provider.http.blueprint import Blueprint
from provider.http.context import caller_of, services_of
from provider.http.errors import http_status
from provider.http.render import page
from provider.i18n.catalogues import N_
from provider.storage.models import User
from provider.web.common import signed_in_form, signed_in_or_redirect

bp = Blueprint("web_profile")

_FIELD_MAX = 4096


def _form_values(user: User) -> dict[str, str]:
    values = {field: getattr(user, field) or "" for field in TEXT_FIELDS}
    address = user.address or {}
    values.update({f"address_{part}": address.get(part, "") for part in ADDRESS_PARTS})
    return values


def _changes(form: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {field: form.get(field, "")[:_FIELD_MAX] for field in TEXT_FIELDS}
    address = {part: form.get(f"address_{part}", "")[:_FIELD_MAX] for part in ADDRESS_PARTS}
    changes["address"] = address if any(value.strip() for value in address.values()) else None
    return changes


async def _profile_page(
    request: Request,
    values: dict[str, str],
    *,
    errors: dict[str, list[str]] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    return await page(
        request,
        "account_profile.html",
        {"values": values, "errors": errors or {}, "notice": notice},
        status=status,
    )


@bp.get("/account/profile")
async def profile_form(request: Request) -> HTTPResponse:
    found = await signed_in_or_redirect(request)
    if isinstance(found, HTTPResponse):
        return found
    saved = N_("Your profile is saved.") if request.args.get("done") == "saved" else None
    return await _profile_page(request, _form_values(found.user), notice=saved)


@bp.post("/account/profile")
async def submit_profile(request: Request) -> HTTPResponse:
    posted = await signed_in_form(request, back="/account/profile")
    if isinstance(posted, HTTPResponse):
        return posted
    found, form = posted.session, posted.form
    changes = _changes(form)
    typed = {name: form.get(name, "") for name in _form_values(found.user)}
    try:
        await update_profile(services_of(request), caller_of(request), found.user, found, changes)
    except ValidationFailed as exc:
        return await _profile_page(request, typed, errors=exc.problems, status=http_status(exc))
    except UsernameTaken as exc:
        errors = {"username": ["is taken"]}
        return await _profile_page(request, typed, errors=errors, status=http_status(exc))
    return redirect("/account/profile?done=saved", status=303)
