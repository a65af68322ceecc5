"""The guarded outbound fetch and the document cache, against a real local https server."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator

import pytest

from provider.net.documents import DocumentCache
from provider.net.outbound import (
    FetchedJson,
    OutboundBadResponse,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
    OutboundTimeout,
    OutboundTooLarge,
    check_url,
    fetch_json,
    is_public_address,
    max_age_of,
)
from tests.https_server import HttpsServer, https_server


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    with https_server(tmp_path_factory.mktemp("https")) as server:
        yield server


@pytest.fixture
def dev(remote: HttpsServer) -> OutboundPolicy:
    """Private targets allowed (the test server is on loopback), its CA trusted."""
    remote.documents.hits.clear()
    remote.documents.cache_control = "max-age=300"
    return OutboundPolicy(allow_private=True, ca_file=remote.ca_file)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/jwks",
        "ftp://example.com/jwks",
        "https:///jwks",
        "https://user:pass@example.com/jwks",
        "https://127.0.0.1/jwks",
        "https://[::1]/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/jwks",
        "https://[::ffff:127.0.0.1]/jwks",
    ],
)
def test_urls_refused_before_any_connection(url: str) -> None:
    with pytest.raises(OutboundRefused):
        check_url(url, allow_private=False)


async def test_a_jwks_is_fetched_with_its_cache_lifetime(
    remote: HttpsServer, dev: OutboundPolicy
) -> None:
    remote.documents.jwks = {"keys": [{"kty": "oct", "kid": "a"}]}
    fetched = await fetch_json(remote.url + "/jwks", dev)
    assert fetched == FetchedJson({"keys": [{"kty": "oct", "kid": "a"}]}, 300)


async def test_loopback_is_refused_at_connect_time(remote: HttpsServer) -> None:
    """`localhost` is a name, not a literal: it is the resolved address that is refused."""
    policy = OutboundPolicy(allow_private=False, ca_file=remote.ca_file)
    remote.documents.hits.clear()
    with pytest.raises(OutboundRefused):
        await fetch_json(remote.url + "/jwks", policy)
    assert remote.documents.hits["/jwks"] == 0


async def test_an_untrusted_certificate_is_refused(remote: HttpsServer) -> None:
    with pytest.raises(OutboundError):
        await fetch_json(remote.url + "/jwks", OutboundPolicy(allow_private=True))


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
async def test_a_body_over_the_cap_is_refused(
    remote: HttpsServer, dev: OutboundPolicy, path: str
) -> None:
    with pytest.raises(OutboundTooLarge):
        await fetch_json(remote.url + path, dev)


async def test_a_slow_drip_ends_at_the_total_deadline(
    remote: HttpsServer, dev: OutboundPolicy
) -> None:
    """One byte a second never trips a per-read timeout; the total deadline ends it."""
    policy = OutboundPolicy(allow_private=True, ca_file=remote.ca_file, deadline=1.0)
    with pytest.raises(OutboundTimeout):
        # The bound only keeps a regression from hanging the suite (the drip lasts 60 s).
        await asyncio.wait_for(fetch_json(remote.url + "/slow", policy), 30)


async def test_redirects_are_not_followed(remote: HttpsServer, dev: OutboundPolicy) -> None:
    with pytest.raises(OutboundBadResponse):
        await fetch_json(remote.url + "/redirect", dev)
    assert remote.documents.hits["/jwks"] == 0


@pytest.mark.parametrize("path", ["/html", "/missing"])
async def test_only_a_200_json_answer_is_accepted(
    remote: HttpsServer, dev: OutboundPolicy, path: str
) -> None:
    with pytest.raises(OutboundBadResponse):
        await fetch_json(remote.url + path, dev)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("max-age=60", 60),
        ("public, max-age=3600", 3600),
        ("no-store", 0),
        ("no-cache", 0),
        ("", None),
    ],
)
def test_max_age(header: str, seconds: int | None) -> None:
    assert max_age_of(header) == seconds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(policy: OutboundPolicy, clock: Clock) -> DocumentCache:
    return DocumentCache(lambda uri: fetch_json(uri, policy), clock=clock)


async def test_concurrent_requests_share_one_fetch(
    remote: HttpsServer, dev: OutboundPolicy
) -> None:
    cache = _cache(dev, Clock())
    results = await asyncio.gather(*(cache.get(remote.url + "/jwks") for _ in range(5)))
    assert all(result == results[0] for result in results)
    assert remote.documents.hits["/jwks"] == 1


async def test_refetch_for_an_unknown_kid_at_most_once_a_minute(
    remote: HttpsServer, dev: OutboundPolicy
) -> None:
    clock = Clock()
    cache = _cache(dev, clock)
    uri = remote.url + "/jwks"
    await cache.get(uri)
    for _ in range(5):
        await cache.get(uri, refresh=True)
    assert remote.documents.hits["/jwks"] == 1
    clock.now += 61
    await cache.get(uri, refresh=True)
    await cache.get(uri, refresh=True)
    assert remote.documents.hits["/jwks"] == 2


@pytest.mark.parametrize(
    ("cache_control", "still_fresh", "stale"),
    [("max-age=1", 59, 61), ("no-store", 59, 61), ("max-age=999999", 86_399, 86_401)],
)
async def test_cache_lifetime_is_clamped(
    remote: HttpsServer, dev: OutboundPolicy, cache_control: str, still_fresh: int, stale: int
) -> None:
    remote.documents.cache_control = cache_control
    clock = Clock()
    cache = _cache(dev, clock)
    uri = remote.url + "/jwks"
    await cache.get(uri)
    clock.now += still_fresh
    await cache.get(uri)
    assert remote.documents.hits["/jwks"] == 1
    clock.now += stale - still_fresh
    await cache.get(uri)
    assert remote.documents.hits["/jwks"] == 2


async def test_a_failure_is_cached_for_a_while(remote: HttpsServer, dev: OutboundPolicy) -> None:
    clock = Clock()
    cache = _cache(dev, clock)
    uri = remote.url + "/html"
    for _ in range(3):
        with pytest.raises(OutboundBadResponse):
            await cache.get(uri)
    assert remote.documents.hits["/html"] == 1
    clock.now += 31
    with pytest.raises(OutboundBadResponse):
        await cache.get(uri, refresh=True)
    assert remote.documents.hits["/html"] == 2
