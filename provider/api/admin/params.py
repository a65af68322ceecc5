"""Query parameters of the admin API: known names only, one value each, 400 on anything malformed.

Cursors are opaque to callers: base64url of a small JSON object naming the sort they belong to
and the position after which the next page starts. A tampered cursor is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic import Request

from provider.api.common import parse_body
from provider.errors import ApiError

M = TypeVar("M", bound=BaseModel)

MAX_VALUE_LENGTH = 1024
MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def invalid(name: str, message: str) -> ApiError:
    return ApiError(
        400,
        "invalid_request",
        f"The parameter {name!r} {message}.",
        details=[{"field": name, "message": message}],
    )


def query_of(request: Request, allowed: set[str]) -> dict[str, str]:
    """The query string as single values; unknown or repeated names are refused."""
    raw = request.get_args(keep_blank_values=True)
    params: dict[str, str] = {}
    for name, values in raw.items():
        if name not in allowed:
            raise invalid(name, "is not known here")
        if len(values) > 1:
            raise invalid(name, "is repeated")
        value = values[0].strip()
        if len(value) > MAX_VALUE_LENGTH or "\x00" in value:
            raise invalid(name, "is malformed")
        if value:
            params[name] = value
    return params


def limit_of(params: dict[str, str]) -> int:
    text = params.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise invalid("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return int(text)


def uuid_of(name: str, text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise invalid(name, "must be a UUID") from exc


def path_uuid(text: str) -> uuid.UUID:
    """An id in the path; a malformed one is a 400 (it can never name anything)."""
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", "The id in the path is not a UUID.") from exc


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def datetime_of(name: str, text: str, *, end_of_day: bool = False) -> datetime:
    """ISO 8601 date or date-time; naive values are UTC. With `end_of_day`, a bare date means
    the end of that day (so `to=2024-05-01` includes all of May 1st)."""
    try:
        value = datetime.fromisoformat(text)
        if end_of_day and "T" not in text.upper() and " " not in text:
            value = value + timedelta(days=1) - timedelta(microseconds=1)
    except (ValueError, OverflowError) as exc:
        raise invalid(name, "must be an ISO 8601 date or date-time") from exc
    return _as_utc(value)


def encode_cursor(kind: str, position: list[Any]) -> str:
    raw = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str, kind: str, length: int) -> list[Any]:
    """The position of a cursor made by `encode_cursor(kind, …)` with `length` parts."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc
    if (
        not isinstance(data, dict)
        or data.get("k") != kind
        or not isinstance(data.get("p"), list)
        or len(data["p"]) != length
    ):
        raise ApiError(400, "invalid_cursor", "The cursor is not valid for this query.")
    position: list[Any] = data["p"]
    return position


def cursor_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.")
    try:
        return _as_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc


def cursor_uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc


def cursor_str(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise ApiError(400, "invalid_cursor", "The cursor is not valid.")
    return value


def optional_body(request: Request, model: type[M]) -> M:
    """An optional JSON body: none at all means the defaults; otherwise as strict as ever."""
    if not request.body:
        return model()
    return parse_body(request, model)
