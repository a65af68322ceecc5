"""Strict JSON bodies: one schema per endpoint, unknown fields and wrong types refused."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sanic import Request

from provider.http.errors import ApiError

M = TypeVar("M", bound=BaseModel)


class StrictBody(BaseModel):
    """Unknown fields and wrong types are refused, never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        """PostgreSQL text cannot hold U+0000, and no identifier or secret needs it."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ApiError(400, "invalid_json", f"Duplicate key {key!r} in the JSON body.")
        result[key] = value
    return result


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object (duplicate keys refused), or a 4xx ApiError that says why.

    For bodies whose fields a protocol defines openly (RFC 7591 client metadata); anything else
    goes through `parse_body` and its schema."""
    if request.content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_encoding", "The body is not valid UTF-8.") from exc
    try:
        data = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


def holds_nul(value: object) -> bool:
    """Whether a decoded JSON value has U+0000 anywhere (PostgreSQL text and jsonb refuse it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


def parse_body(request: Request, model: type[M]) -> M:
    """Decode a JSON object body into `model`, or raise a 4xx ApiError that says why."""
    data = json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(part) for part in error["loc"]) or "body",
                "message": error["msg"],
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ApiError(
            400, "invalid_request", "The body does not match the schema.", details=details
        ) from exc


class EmptyBody(StrictBody):
    """For endpoints that take no parameters: only `{}` (or nothing at all) is accepted."""


def refuse_body(request: Request) -> None:
    """An endpoint without parameters still refuses a body that is not JSON or has fields."""
    if request.body:
        parse_body(request, EmptyBody)
