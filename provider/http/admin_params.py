"""Query parameters of the admin API: known names only, one value each, 400 on anything malformed.

Cursors are opaque to callers: base64url of a small JSON object naming the sort they belong to
and the position after which the next page starts. A tampered cursor is a 400, never a 500.

The API and the hosted admin pages both parse through this module, and everything that could
reach the database malformed stops here: values longer than the column they filter, NULs
(PostgreSQL refuses them in text), unpaired surrogates, integers that are digits only to
`str.isdigit` ("²"), ids beyond int64, and dates whose UTC value falls outside what a datetime
can hold (`9999-12-31T23:59:59-12:00`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic import Request

from provider.http.errors import ApiError
from provider.http.json_body import parse_body

M = TypeVar("M", bound=BaseModel)

MAX_VALUE_LENGTH = 1024
# Filters compared with a column: longer than the column, they can match nothing.
MAX_LENGTHS = {
    "event": 64,
    "outcome": 16,
    "client_id": 128,
    "ip": 64,
    "user_id": 36,
    "q": 254,
    "role": 16,
    "status": 16,
    "sort": 16,
    "limit": 8,
    "days": 8,
}
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,8}")


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
        if len(value) > MAX_LENGTHS.get(name, MAX_VALUE_LENGTH):
            raise invalid(name, "is too long")
        if not _storable(value):
            raise invalid(name, "is malformed")
        if value:
            params[name] = value
    return params


def _storable(text: str) -> bool:
    """Text a database can take: no NUL, no unpaired surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bounded_int(name: str, text: str, low: int, high: int) -> int:
    """ASCII digits from `low` to `high` ("²" is a digit to isdigit, not to int)."""
    if not _ASCII_DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise invalid(name, f"must be an integer from {low} to {high}")
    return int(text)


def limit_of(params: dict[str, str]) -> int:
    text = params.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    return bounded_int("limit", text, 1, MAX_LIMIT)


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
    """In UTC; OverflowError when that falls outside years 1 to 9999."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def datetime_of(name: str, text: str, *, end_of_day: bool = False) -> datetime:
    """ISO 8601 date or date-time; naive values are UTC. With `end_of_day`, a bare date means
    the end of that day (so `to=2024-05-01` includes all of May 1st)."""
    try:
        value = datetime.fromisoformat(text)
        if end_of_day and "T" not in text.upper() and " " not in text:
            value = value + timedelta(days=1) - timedelta(microseconds=1)
        return _as_utc(value)
    except (ValueError, OverflowError) as exc:
        raise invalid(name, "must be an ISO 8601 date or date-time from year 1 to 9999") from exc


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


def _invalid_cursor() -> ApiError:
    return ApiError(400, "invalid_cursor", "The cursor is not valid.")


def cursor_datetime(value: Any) -> datetime:
    text = cursor_str(value)
    try:
        return _as_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError) as exc:
        raise _invalid_cursor() from exc


def cursor_uuid(value: Any) -> uuid.UUID:
    text = cursor_str(value)
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise _invalid_cursor() from exc


def cursor_str(value: Any, max_length: int = MAX_VALUE_LENGTH) -> str:
    if not isinstance(value, str) or len(value) > max_length or not _storable(value):
        raise _invalid_cursor()
    return value


def cursor_int64(value: Any) -> int:
    """An integer id that fits the BIGINT column it is compared with."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid_cursor()
    if not INT64_MIN <= value <= INT64_MAX:
        raise _invalid_cursor()
    return value


def optional_body(request: Request, model: type[M]) -> M:
    """An optional JSON body: none at all means the defaults; otherwise as strict as ever."""
    if not request.body:
        return model()
    return parse_body(request, model)
