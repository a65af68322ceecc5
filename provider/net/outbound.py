"""One guarded way to fetch a JSON document from a URL another party controls.

A client's `jwks_uri` (and any later outbound fetch) is chosen by someone else, so the fetch must
not become a way into the internal network, nor hold a worker or its memory:

- https only; the address is checked at connect time, on what the name resolved to, and the
  socket connects to that checked address (no second lookup that could answer differently);
  private, loopback, link-local, multicast, reserved, unspecified and IPv4-mapped addresses are
  refused unless the policy allows private targets (a development setting);
- one total deadline for the whole exchange, not a per-read timeout that a slow drip resets;
- the body is streamed and abandoned past a size cap;
- redirects are not followed; only a 200 with a JSON content type is accepted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
import ssl
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore

MAX_BYTES = 256 * 1024
DEADLINE = 5.0
JSON_TYPES = ("application/json", "application/jwk-set+json")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)


class OutboundError(Exception):
    """The document could not be fetched; the message is safe to log (no secrets, no body)."""


class OutboundRefused(OutboundError):
    """The URL or the address it resolves to is not allowed."""


class OutboundTimeout(OutboundError):
    """The whole exchange did not finish within the deadline."""


class OutboundTooLarge(OutboundError):
    """The body is larger than the cap."""


class OutboundBadResponse(OutboundError):
    """Not a 200 JSON answer: a redirect, an error status, another content type, bad JSON."""


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    allow_private: bool = False
    ca_file: Path | None = None
    deadline: float = DEADLINE
    max_bytes: int = MAX_BYTES


@dataclass(frozen=True, slots=True)
class FetchedJson:
    document: dict[str, Any]
    max_age: int | None
    """Seconds from `Cache-Control: max-age`, 0 for no-store/no-cache, None when absent."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: IPAddress) -> bool:
    """A globally routable unicast address; IPv4-mapped IPv6 is refused outright."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def literal_address(host: str) -> IPAddress | None:
    """The address when `host` is an IP literal (brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url(url: str, allow_private: bool) -> None:
    """https with a host; an IP literal must be public unless private targets are allowed."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise OutboundRefused("only https URLs with a host are fetched")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("URLs with credentials are not fetched")
    address = literal_address(parts.hostname)
    if address is not None and not allow_private and not is_public_address(address):
        raise OutboundRefused("the URL names a non-public address")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the name itself, checks every address, connects to a checked one only."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    def _allowed(self, address: IPAddress) -> bool:
        return self._allow_private or is_public_address(address)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        # Every answer must be allowed: a name that also resolves inward is refused as a whole.
        if not addresses or not all(self._allowed(address) for address in addresses):
            raise OutboundRefused("the host resolves to a non-public address")
        last_error: Exception = OutboundError("no address could be reached")
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.TimeoutException, OSError) as exc:
                last_error = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if not peer or not self._allowed(ipaddress.ip_address(peer[0])):
                await stream.aclose()
                raise OutboundRefused("connected to a non-public address")
            return stream
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def max_age_of(cache_control: str) -> int | None:
    if re.search(r"\b(no-store|no-cache)\b", cache_control, re.IGNORECASE):
        return 0
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else None


# What a connection, TLS or HTTP exchange can fail with below httpx: each becomes OutboundError.
TRANSPORT_FAILURES: tuple[type[Exception], ...] = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
    ssl.SSLError,
    OSError,
)


async def fetch_json(url: str, policy: OutboundPolicy) -> FetchedJson:
    """GET `url` under `policy`; a JSON object or a typed OutboundError."""
    check_url(url, policy.allow_private)
    try:
        async with asyncio.timeout(policy.deadline):
            return await _fetch(url, policy)
    except TimeoutError as exc:
        raise OutboundTimeout(f"no complete answer within {policy.deadline:g} s") from exc
    except TRANSPORT_FAILURES as exc:
        raise OutboundError(f"fetch failed: {type(exc).__name__}") from exc


async def _fetch(url: str, policy: OutboundPolicy) -> FetchedJson:
    async with (
        httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(policy.ca_file),
            max_connections=1,
            retries=0,
            network_backend=GuardedBackend(policy.allow_private),
        ) as pool,
        pool.stream("GET", url, headers=[(b"Accept", ", ".join(JSON_TYPES).encode())]) as response,
    ):
        headers = {name.decode("latin-1").lower(): value for name, value in response.headers}
        if 300 <= response.status < 400:
            raise OutboundBadResponse("redirects are not followed")
        if response.status != 200:
            raise OutboundBadResponse(f"status {response.status}")
        content_type = headers.get("content-type", b"").decode("latin-1")
        if content_type.split(";")[0].strip().lower() not in JSON_TYPES:
            raise OutboundBadResponse("not a JSON document")
        length = headers.get("content-length", b"")
        if length.isdigit() and int(length) > policy.max_bytes:
            raise OutboundTooLarge(f"larger than {policy.max_bytes} bytes")
        body = bytearray()
        async for chunk in response.aiter_stream():
            body += chunk
            if len(body) > policy.max_bytes:
                raise OutboundTooLarge(f"larger than {policy.max_bytes} bytes")
        cache_control = headers.get("cache-control", b"").decode("latin-1")
    try:
        document = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        raise OutboundBadResponse("invalid JSON") from exc
    if not isinstance(document, dict):
        raise OutboundBadResponse("not a JSON object")
    return FetchedJson(document, max_age_of(cache_control))
