"""Per-request plumbing: request id, access log and metrics, security headers, CORS."""

from __future__ import annotations

import base64
import hashlib
import itertools
import logging
import re
import secrets
import time
from collections.abc import Iterator
from functools import lru_cache

from prometheus_client import Counter, Histogram
from sanic import Request
from sanic.response import BaseHTTPResponse, HTTPResponse, empty

from provider.config import Settings
from provider.http.errors import ApiError
from provider.ops.logging import request_id_var
from provider.ops.metrics import LATENCY, REQUESTS
from provider.sanic_app import App

access_log = logging.getLogger("provider.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CORS_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
_CORS_HEADERS = "Authorization, Content-Type, X-Request-ID"
_STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The API docs page loads its Swagger UI assets from the provider itself (/docs/assets).
_DOCS_ASSETS = "'self'"
_INLINE_BLOCK = re.compile(rb"<(script|style)>(.*?)</\1>", re.S)


def install_middleware(app: App, settings: Settings) -> None:
    allowed_origins = frozenset(settings.cors_origins)
    # HSTS when the issuer is https, or when a trusted proxy says the request came over TLS
    # (RFC 6797 §8.1: browsers ignore it over plain http anyway).
    always_hsts = settings.secure_cookies
    trust_proxy = settings.trust_proxy > 0
    request_ids = _request_ids()

    async def start(request: Request) -> HTTPResponse | None:
        incoming = request.headers.get("x-request-id", "")
        request.ctx.request_id = incoming if _REQUEST_ID.match(incoming) else next(request_ids)
        request.ctx.started = time.perf_counter()
        request_id_var.set(request.ctx.request_id)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            return _preflight(request, allowed_origins)
        return None

    async def finish(request: Request, response: BaseHTTPResponse) -> None:
        request_id = getattr(request.ctx, "request_id", None) or next(request_ids)
        response.headers["X-Request-ID"] = request_id
        hsts = always_hsts or (trust_proxy and request.scheme == "https")
        _security_headers(request, response, hsts)
        origin = request.headers.get("origin")
        if origin and origin in allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        _observe(request, response)

    app.register_middleware(start, "request", priority=100)
    app.register_middleware(finish, "response", priority=100)


def _preflight(request: Request, allowed: frozenset[str]) -> HTTPResponse:
    origin = request.headers.get("origin", "")
    if origin not in allowed:
        raise ApiError(403, "origin_not_allowed", "This origin may not call the API.")
    return empty(
        status=204,
        headers={
            "Access-Control-Allow-Methods": _CORS_METHODS,
            "Access-Control-Allow-Headers": _CORS_HEADERS,
            "Access-Control-Max-Age": "600",
        },
    )


def _request_ids() -> Iterator[str]:
    """Unique ids without a system call per request: a random per-process prefix and a counter."""
    prefix = secrets.token_hex(8)
    return (f"{prefix}{n:016x}" for n in itertools.count())


def _security_headers(request: Request, response: BaseHTTPResponse, hsts: bool) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", _content_security_policy(request, response))
    if hsts:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _content_security_policy(request: Request, response: BaseHTTPResponse) -> str:
    """Nothing may load anywhere, except what the HTML pages of the API docs need to render."""
    # Every JSON answer (the hot paths) is decided by its content type alone.
    if not (response.content_type or "").startswith("text/html"):
        return _STRICT_POLICY
    docs_prefix = str(request.app.config.get("OAS_URL_PREFIX", "/docs")).rstrip("/")
    if not (request.path.startswith(docs_prefix) and response.body):
        return _STRICT_POLICY
    inline: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for kind, content in _INLINE_BLOCK.findall(response.body):
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        inline[kind].append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'none'",
            " ".join(["script-src", _DOCS_ASSETS, *inline[b"script"]]),
            " ".join(["style-src", _DOCS_ASSETS, *inline[b"style"]]),
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _observe(request: Request, response: BaseHTTPResponse) -> None:
    route = request.route.path if request.route else "unmatched"
    route = "/" + route.lstrip("/")
    started = getattr(request.ctx, "started", None)
    elapsed = time.perf_counter() - started if started is not None else 0.0
    _request_counter(route, request.method, response.status).inc()
    _latency_histogram(route).observe(elapsed)
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status,
        extra={"status": response.status, "ms": round(elapsed * 1000, 2), "route": route},
    )


@lru_cache(maxsize=4096)
def _request_counter(route: str, method: str, status: int) -> Counter:
    return REQUESTS.labels(route=route, method=method, status=str(status))


@lru_cache(maxsize=1024)
def _latency_histogram(route: str) -> Histogram:
    return LATENCY.labels(route=route)
