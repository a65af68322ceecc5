"""GET /branding/logo and /branding/theme.css: the organisation's logo file and colours.

Both are served from this origin so the pages' CSP stays `img-src 'self'` and `style-src 'self'`
when the logo is a file (only a logo URL adds its origin to img-src)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sanic import Request
from sanic.response import HTTPResponse, raw

from provider.config import LOGO_TYPES
from provider.http.blueprint import Blueprint
from provider.http.context import services_of
from provider.http.errors import ApiError

bp = Blueprint("web_branding")


@bp.get("/branding/logo")
async def logo(request: Request) -> HTTPResponse:
    settings = services_of(request).settings
    path = Path(settings.brand_logo)
    if not settings.brand_logo or settings.brand_logo.startswith("https://"):
        raise ApiError(404, "not_found", "No logo file is configured.")
    body = await asyncio.to_thread(path.read_bytes)
    response = raw(body, content_type=LOGO_TYPES[path.suffix.lower()])
    response.headers["Cache-Control"] = "public, max-age=3600"
    # An SVG opened on its own must not run a script in this origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    return response


@bp.get("/branding/theme.css")
async def theme(request: Request) -> HTTPResponse:
    """The configured colours over the stylesheet's own, in each scheme. The dark scheme's
    primary is PROVIDER_BRAND_PRIMARY_COLOR_DARK, or the primary lightened until it reads on
    the dark card; its buttons keep their dark text."""
    settings = services_of(request).settings
    rules = []
    if settings.brand_primary_color:
        rules.append(_primary_rule("light", settings.brand_primary_color, "black"))
    if settings.primary_color_dark:
        rules.append(_primary_rule("dark", settings.primary_color_dark, "white"))
    if settings.brand_accent_color:
        rules.append(f":root {{ --accent: {settings.brand_accent_color}; }}")
    if settings.brand_accent_color_dark:
        rules.append(
            "@media (prefers-color-scheme: dark) { :root { "
            f"--accent: {settings.brand_accent_color_dark}; }} }}"
        )
    response = raw("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _primary_rule(scheme: str, primary: str, hover_towards: str) -> str:
    return (
        f"@media (prefers-color-scheme: {scheme}) {{ :root {{ "
        f"--primary: {primary}; "
        f"--primary-hover: color-mix(in srgb, {primary} 80%, {hover_towards}); "
        f"--focus: {primary}; --link: {primary}; }} }}"
    )
