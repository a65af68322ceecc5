"""JSON answers: those of the first-party API (never cached, whatever proxy sits in front), and
the bodies of the OAuth endpoints every client calls on every request."""

from __future__ import annotations

from typing import Any

import orjson
from sanic.response import HTTPResponse
from sanic.response import json as json_response


def ok(
    data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTTPResponse:
    return json_response(
        data, status=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def protocol_json(data: dict[str, Any], headers: dict[str, str]) -> HTTPResponse:
    """A 200 JSON body encoded by orjson (compact UTF-8, like Sanic's own): for the token,
    introspection and userinfo answers, the hot paths."""
    return HTTPResponse(orjson.dumps(data), headers=headers, content_type="application/json")
