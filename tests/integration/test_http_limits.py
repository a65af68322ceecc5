"""HTTP-level refusals: 405 names the allowed methods, an over-long request line is 414 and
oversized headers are 431 (RFC 9110 §15.5.6, §15.5.15; RFC 6585 §5), never 413."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support import Server, assert_error

HEADER_LIMIT = 8192  # Sanic's REQUEST_MAX_HEADER_SIZE default


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/token", {"POST"}),
        ("PUT", "/v1/auth/register", {"POST"}),
        ("POST", "/jwks", {"GET"}),
        ("PATCH", "/userinfo", {"GET", "POST"}),
        ("DELETE", "/health", {"GET"}),
        # A path with a parameter: Sanic keeps one route per method there.
        ("PUT", "/v1/admin/users/0b6f0f5e-0000-4000-8000-000000000000", {"GET", "PATCH", "DELETE"}),
        ("POST", "/v1/admin/clients/some-client", {"GET", "PATCH", "DELETE"}),
    ],
)
async def test_405_carries_allow(
    client: httpx.AsyncClient, method: str, path: str, allowed: set[str]
) -> None:
    response = await client.request(method, path)
    assert_error(response, 405, "method_not_allowed")
    listed = {item.strip() for item in response.headers["allow"].split(",")}
    # HEAD and OPTIONS may be listed too where the framework answers them.
    assert allowed <= listed <= allowed | {"HEAD", "OPTIONS"}, response.headers["allow"]


async def _raw(server: Server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (httpx would refuse such a request) and read the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body
    finally:
        writer.close()


async def test_an_over_long_request_line_is_414(server: Server) -> None:
    path = "/health?" + "a" * (HEADER_LIMIT + 100)
    status, headers, body = await _raw(
        server, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    )
    assert status == 414, body
    assert headers["content-type"].startswith("application/json")
    assert b'"code":"uri_too_long"' in body.replace(b" ", b"")


async def test_oversized_headers_are_431(server: Server) -> None:
    big = "x" * (HEADER_LIMIT + 100)
    status, headers, body = await _raw(
        server, f"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n".encode()
    )
    assert status == 431, body
    assert headers["content-type"].startswith("application/json")
    assert b'"code":"request_header_fields_too_large"' in body.replace(b" ", b"")


async def test_many_small_headers_over_the_limit_are_431(server: Server) -> None:
    lines = "".join(f"X-H{i}: {'y' * 90}\r\n" for i in range(HEADER_LIMIT // 90 + 5))
    status, _, body = await _raw(
        server, f"GET /health HTTP/1.1\r\nHost: localhost\r\n{lines}\r\n".encode()
    )
    assert status == 431, body


async def test_a_request_within_the_limits_still_works(server: Server) -> None:
    path = "/health?" + "a" * 4000
    status, _, body = await _raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 200, body
