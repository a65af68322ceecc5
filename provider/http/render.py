"""Rendering hosted pages (Jinja2) in the reader's language, with their security headers."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from sanic import Request
from sanic.response import HTTPResponse, html

from provider.config import Settings
from provider.http.context import services_of
from provider.http.csrf import attach_csrf_cookie, csrf_token
from provider.http.locale import UNREAD, Unread, page_translator
from provider.i18n.catalogues import N_, Message
from provider.oauth.flows import Flow
from provider.storage.models import Session


def page_templates(settings: Settings) -> Environment:
    """The pages' templates: PROVIDER_TEMPLATES_DIR first (a file of the same name replaces the
    built-in one), then the package's. The i18n extension finds `gettext` in each render's
    context, so two requests in two languages never share a translation object."""
    loaders: list[FileSystemLoader | PackageLoader] = [PackageLoader("provider.web", "templates")]
    if settings.templates_dir is not None:
        loaders.insert(0, FileSystemLoader(settings.templates_dir))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    # A message id is the trans block's text with its line breaks and indentation folded.
    environment.policies["ext.i18n.trimmed"] = True
    return environment


def image_sources(settings: Settings, extra: list[str] | None = None) -> str:
    """img-src: this origin, inline data, and a configured logo's origin only when there is one."""
    sources = ["'self'", "data:"]
    for url in [settings.brand_logo, *(extra or [])]:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.netloc:
            origin = f"https://{parts.netloc}"
            if origin not in sources:
                sources.append(origin)
    return " ".join(sources)


def content_security_policy(
    form_targets: list[str] | None = None, script_nonce: str = "", img_src: str = "'self' data:"
) -> str:
    form_action = " ".join(["'self'", *(form_targets or [])])
    script = f"script-src 'nonce-{script_nonce}'; " if script_nonce else ""
    return (
        f"default-src 'none'; style-src 'self'; img-src {img_src}; "
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
    images: list[str] | None = None,
    flow: Flow | Unread | None = UNREAD,
    session: Session | Unread | None = UNREAD,
) -> HTTPResponse:
    """`images`: the https URLs of pictures the page shows beyond the brand (a client's logo).
    `flow`, `session`: what the handler has already read, so the page's language does not read
    them again (`page_translator`); give them only while they are still current."""
    settings = services_of(request).settings
    translator = await page_translator(request, flow=flow, session=session)
    full_context = {
        "csrf": csrf_token(request, settings),
        "request_id": request.ctx.request_id,
        "brand": settings.brand,
        "request": request,
        **translator.context(),
        **context,
    }
    templates: Environment = request.app.ctx.page_templates
    body = templates.get_template(template).render(full_context)
    response = html(body, status=status)
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_targets, script_nonce, image_sources(settings, images)
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = translator.locale
    attach_csrf_cookie(request, response, settings)
    return response


async def error_page(
    request: Request,
    message: str | Message,
    *,
    status: int = 400,
    title: str = N_("Something is not right"),
) -> HTTPResponse:
    return await page(request, "error.html", {"title": title, "message": message}, status=status)


def new_script_nonce() -> str:
    return secrets.token_urlsafe(16)
