"""JSON answers of the first-party API: never cached, whatever proxy sits in front."""

from __future__ import annotations

from typing import Any

from sanic.response import HTTPResponse
from sanic.response import json as json_response


def ok(
    data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTTPResponse:
    return json_response(
        data, status=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )
