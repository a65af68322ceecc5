"""GET /: where a visitor starts. Signed in: their account (and the console for staff);
otherwise: sign in or create an account."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.roles import READERS
from provider.http.blueprint import Blueprint
from provider.http.context import services_of
from provider.http.cookies import browser_session
from provider.http.render import page

bp = Blueprint("web_landing")


@bp.get("/")
async def landing(request: Request) -> HTTPResponse:
    session = await browser_session(request, services_of(request).settings)
    user = session.user if session is not None else None
    return await page(
        request,
        "landing.html",
        {
            "user_name": (user.name or user.email) if user is not None else None,
            "staff": user is not None and user.role in READERS,
        },
    )
