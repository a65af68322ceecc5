"""Sanic's Blueprint with each route's error format set, instead of guessed from its source.

Sanic guesses the error format of a route registered without one by reading the handler's
source file and parsing it (`inspect.getsource` and `ast.parse`, per route, at import): for the
provider's two hundred routes that was about 0.6 s of every start. The guess is never used:
the provider's own error handlers (`provider.ops.errors`) answer every exception, as JSON or
as a page by what the request accepts.
"""

from __future__ import annotations

from typing import Any

import sanic


class Blueprint(sanic.Blueprint):
    def route(self, *args: Any, error_format: str | None = None, **kwargs: Any) -> Any:
        return super().route(*args, error_format=error_format or "json", **kwargs)
