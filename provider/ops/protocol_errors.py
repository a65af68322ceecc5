"""What Sanic leaves out of some protocol-level refusals: `Allow` on every 405, and 414 / 431
instead of 413 when the request head is too large."""

from __future__ import annotations

from sanic import Request
from sanic.exceptions import MethodNotAllowed, PayloadTooLarge, SanicException
from sanic.http.http1 import Http

from provider.sanic_app import App

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# The message Sanic raises PayloadTooLarge with when the head (request line and headers) does
# not fit in REQUEST_MAX_HEADER_SIZE (sanic/http/http1.py, Http.http1_request_header).
_HEAD_TOO_LARGE = "Request header exceeds the size limit"


def allow_header(app: App, request: Request, exc: MethodNotAllowed) -> str | None:
    """RFC 9110 §15.5.6: a 405 MUST carry `Allow`. Sanic fills it only for static paths; a path
    with parameters is one route per method, so the methods are looked up one by one."""
    if exc.allowed_methods:
        return ", ".join(exc.allowed_methods)
    allowed = []
    for method in METHODS:
        try:
            app.router.get(request.path, method, request.headers.get("host"))
        except SanicException:
            continue
        allowed.append(method)
    return ", ".join(allowed) or None


def head_too_large_status(request: Request, exc: SanicException) -> int | None:
    """414 when the request line alone does not fit, 431 when the headers do not (RFC 9110
    §15.5.15, RFC 6585 §5); None for any other error.

    Relies on Sanic internals: the head is still in the connection's receive buffer when the
    error handler runs (HttpProtocol.recv_buffer), and the limit is Http.HEADER_MAX_SIZE.
    """
    if not isinstance(exc, PayloadTooLarge) or str(exc) != _HEAD_TOO_LARGE:
        return None
    transport = request.transport
    protocol = transport.get_protocol() if transport is not None else None
    buffer = getattr(protocol, "recv_buffer", None)
    if not isinstance(buffer, bytes | bytearray):
        return 431
    end_of_request_line = buffer.find(b"\r\n")
    if end_of_request_line == -1 or end_of_request_line >= Http.HEADER_MAX_SIZE:
        return 414
    return 431
