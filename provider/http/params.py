"""OAuth request parameters: one value each, empty means absent (RFC 6749 §3.1, §3.2)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from sanic import Request

from provider.http.errors import OAuthError

MAX_VALUE_LENGTH = 8192
# RFC 8707 §2: `resource` may be given several times, once per resource server.
REPEATABLE = frozenset({"resource"})


def form_params(request: Request) -> dict[str, str]:
    """The urlencoded body of a POST (RFC 6749 §4.1.3 requires this content type)."""
    content_type = request.content_type.split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded.")
    return single_values(request.get_form(keep_blank_values=True) or {})


def query_params(request: Request) -> dict[str, str]:
    return single_values(request.get_args(keep_blank_values=True))


def form_resources(request: Request) -> tuple[str, ...]:
    """The `resource` values of a form body read by `form_params`."""
    return repeated_values(request.get_form(keep_blank_values=True) or {}, "resource")


def query_resources(request: Request) -> tuple[str, ...]:
    return repeated_values(request.get_args(keep_blank_values=True), "resource")


def repeated_values(raw: dict[str, list[str]], name: str) -> tuple[str, ...]:
    """Every non-empty value of a repeatable parameter, each within the size limit."""
    # dict.get, not raw.get: Sanic's RequestParameters.get answers the first value only.
    values = tuple(value for value in dict.get(raw, name, []) if value != "")
    if any(len(value) > MAX_VALUE_LENGTH or "\x00" in value for value in values):
        raise OAuthError("invalid_request", f"The parameter {name!r} is malformed.")
    return values


def single_values(raw: dict[str, list[str]]) -> dict[str, str]:
    """Refuse repeated parameters (RFC 6749 §3.1: MUST NOT be included more than once)."""
    params: dict[str, str] = {}
    for name, values in raw.items():
        if name in REPEATABLE:
            continue
        present = [value for value in values if value != ""]
        if len(values) > 1:
            raise OAuthError("invalid_request", f"The parameter {name!r} is repeated.")
        if not present:
            continue
        if len(present[0]) > MAX_VALUE_LENGTH or "\x00" in present[0]:
            raise OAuthError("invalid_request", f"The parameter {name!r} is malformed.")
        params[name] = present[0]
    return params


def path_client_id(segment: str) -> str:
    """A client id from one path segment. The id of a metadata-document client is a URL, sent
    percent-encoded (`%2F` for each slash) and left encoded by the router; other ids have no `%`
    (they are URL-safe base64), so decoding leaves them as they are."""
    return unquote(segment)


def client_path(client_id: str) -> str:
    """The path segment that names a client: `path_client_id` reads it back."""
    return quote(client_id, safe="")
