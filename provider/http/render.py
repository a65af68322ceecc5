"""Rendering hosted pages (Jinja2 through sanic-ext) with their security headers."""

from __future__ import annotations

import secrets
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic_ext import render

from provider.http.context import services_of
from provider.http.csrf import attach_csrf_cookie, csrf_token


def content_security_policy(form_targets: list[str] | None = None, script_nonce: str = "") -> str:
    form_action = " ".join(["'self'", *(form_targets or [])])
    script = f"script-src 'nonce-{script_nonce}'; " if script_nonce else ""
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"{script}form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


async def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    form_targets: list[str] | None = None,
    script_nonce: str = "",
) -> HTTPResponse:
    settings = services_of(request).settings
    full_context = {
        "csrf": csrf_token(request, settings),
        "request_id": request.ctx.request_id,
        "lang": "en",
        **context,
    }
    response = await render(template, context=full_context, status=status)
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_targets, script_nonce
    )
    response.headers["Cache-Control"] = "no-store"
    attach_csrf_cookie(request, response, settings)
    return response


async def error_page(
    request: Request, message: str, *, status: int = 400, title: str = "Something is not right"
) -> HTTPResponse:
    return await page(request, "error.html", {"title": title, "message": message}, status=status)


def new_script_nonce() -> str:
    return secrets.token_urlsafe(16)
