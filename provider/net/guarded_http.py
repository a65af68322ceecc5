"""An httpx transport under the outbound policy, for clients that speak more than a GET of JSON.

The upstream identity providers (provider.federation) are reached with an httpx client:
discovery, JWKS, the token exchange and userinfo. Handing it this transport gives those calls
the rules of provider.net.outbound:

- https only, and each name resolved by `GuardedBackend`, which refuses private, loopback and
  link-local addresses unless the policy allows private targets (a development setting);
- plain http only to a loopback address, and only when private targets are allowed: a second
  provider on 127.0.0.1 in development and tests;
- one deadline per exchange, the body read up to the size cap and abandoned past it;
- no redirects: a 3xx is an error, whatever the client would have done with it.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

import httpcore
import httpx

from provider.net.outbound import (
    TRANSPORT_FAILURES,
    GuardedBackend,
    OutboundBadResponse,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
    OutboundTimeout,
    OutboundTooLarge,
    check_url,
    literal_address,
)

LOOPBACK_NAMES = ("localhost",)


def check_endpoint(url: str, allow_private: bool) -> None:
    """`check_url`, except that http to a loopback host passes when private targets may."""
    parts = urlsplit(url)
    if parts.scheme == "http" and allow_private and _is_loopback(parts.hostname or ""):
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused("URLs with credentials are not fetched")
        return
    check_url(url, allow_private)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    address = literal_address(host)
    return address is not None and address.is_loopback


def _ssl_context(policy: OutboundPolicy) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if policy.ca_file is not None:
        context.load_verify_locations(cafile=str(policy.ca_file))
    return context


class GuardedTransport(httpx.AsyncBaseTransport):
    """Each request checked, connected through `GuardedBackend`, timed and capped."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(policy),
            max_connections=4,
            retries=0,
            network_backend=GuardedBackend(policy.allow_private),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_endpoint(str(request.url), self._policy.allow_private)
        try:
            async with asyncio.timeout(self._policy.deadline):
                status, headers, body = await self._exchange(request)
        except TimeoutError as exc:
            raise OutboundTimeout(f"no complete answer within {self._policy.deadline:g} s") from exc
        except TRANSPORT_FAILURES as exc:
            raise OutboundError(f"request failed: {type(exc).__name__}") from exc
        if 300 <= status < 400:
            raise OutboundBadResponse("redirects are not followed")
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _exchange(
        self, request: httpx.Request
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
        )
        response = await self._pool.handle_async_request(core_request)
        try:
            body = bytearray()
            async for chunk in response.aiter_stream():
                body += chunk
                if len(body) > self._policy.max_bytes:
                    raise OutboundTooLarge(f"larger than {self._policy.max_bytes} bytes")
        finally:
            await response.aclose()
        return response.status, response.headers, bytes(body)

    async def aclose(self) -> None:
        await self._pool.aclose()
