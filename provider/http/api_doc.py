"""What each JSON API route says of itself in the OpenAPI document, recorded on its handler.

`provider.ops.openapi` reads these records when `/docs/openapi.json` is first asked for. Plain
records, not sanic-ext's `openapi` decorators: those build their schema objects at import, which
was 0.1 s of every start (about 40 % of importing the app), for a document most processes never
serve; its `body` also wrapped each handler in one more coroutine per request.

    @api_doc.tag("account")
    @api_doc.summary("Edit the signed-in user's profile")
    @api_doc.secured("bearer")
    @api_doc.body({"application/json": ProfileBody.model_json_schema()})
    @api_doc.response(200, description="The user and their profile as stored")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

H = TypeVar("H", bound=Callable[..., Any])
_ATTRIBUTE = "__api_doc__"


@dataclass
class Declared:
    summary: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    secured: bool = False
    # Media type → JSON schema of the request body.
    body: dict[str, dict[str, Any]] | None = None
    # Status → its description, in the order declared.
    responses: dict[int, str] = field(default_factory=dict)


def declared(handler: Callable[..., Any]) -> Declared | None:
    """What `handler` declared, or None for a route that declared nothing."""
    found: Declared | None = getattr(handler, _ATTRIBUTE, None)
    return found


def _declare(change: Callable[[Declared], None]) -> Callable[[H], H]:
    def decorate(handler: H) -> H:
        record = declared(handler)
        if record is None:
            record = Declared()
            setattr(handler, _ATTRIBUTE, record)
        change(record)
        return handler

    return decorate


def summary(text: str) -> Callable[[H], H]:
    return _declare(lambda record: setattr(record, "summary", text))


def description(text: str) -> Callable[[H], H]:
    return _declare(lambda record: setattr(record, "description", text))


def tag(*names: str) -> Callable[[H], H]:
    return _declare(lambda record: record.tags.extend(names))


def secured(scheme: Literal["bearer"]) -> Callable[[H], H]:
    """The route takes a first-party bearer token (the document's one security scheme)."""
    return _declare(lambda record: setattr(record, "secured", True))


def body(content: dict[str, dict[str, Any]]) -> Callable[[H], H]:
    return _declare(lambda record: setattr(record, "body", content))


def response(status: int, *, description: str) -> Callable[[H], H]:
    return _declare(lambda record: record.responses.__setitem__(status, description))
