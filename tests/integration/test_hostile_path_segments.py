"""Hostile path segments on every /v1 route with a parameter: a 400 or 404, never a 500.

A NUL, a segment longer than its column, or a name no rule allows can never name anything. Some
used to reach the database (a NUL is refused by PostgreSQL, an over-long value by the ORM's
length check) and answered 500 with a traceback in the log: removing an app's access
(`DELETE /v1/auth/consents/…`), deleting an app role or group, setting a client's role or group
filter. The routes are read from the app's route table, so a new one is covered as it comes.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

from provider.app import create_app
from provider.config import Settings
from tests.admin_support import admin
from tests.support import Server, assert_error

_PARAM = re.compile(r"<[^>]+>")
HOSTILE = ["\x00", "a\x00b", "x" * 3000, "\u00fc" * 300, "00000000-0000-0000-0000-00000000000\x00"]


def _parameterised_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(), name="hostile_paths")
    app.router.finalize()
    routes = [
        (method, "/" + route.path)
        for route in app.router.routes
        if route.path.startswith(("v1/auth", "v1/admin")) and _PARAM.search(route.path)
        for method in sorted(route.methods)
        if method != "HEAD"
    ]
    assert len(routes) > 20, routes
    return routes


async def test_hostile_path_segments_are_400_or_404(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = await admin(client)
    failures = []
    for method, template in _parameterised_routes():
        for value in HOSTILE:
            path = _PARAM.sub(quote(value, safe=""), template)
            body = None if method in ("GET", "DELETE") else {}
            response = await client.request(method, path, json=body, headers=headers)
            if response.status_code not in (400, 404):
                failures.append((method, template, repr(value[:12]), response.status_code))
            else:
                assert_error(response, response.status_code)
    assert failures == []
    assert "unhandled error" not in server.log()
