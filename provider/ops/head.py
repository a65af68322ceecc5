"""HEAD on every GET route (RFC 9110 §9.3.2): the same handler and headers, without the body.

Sanic answers HEAD only where a route declares it, and strips the body of a HEAD response itself.
"""

from __future__ import annotations

from provider.sanic_app import App


def answer_head_like_get(app: App) -> None:
    """Give every GET route the HEAD method too; call once every route is added, before start."""
    for route in app.router.routes:
        if "GET" in route.methods and "HEAD" not in route.methods:
            route.methods = route.methods | {"HEAD"}
