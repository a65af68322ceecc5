"""Client ID metadata documents: the URL rules, every SSRF rule of the fetch (each forbidden
address class, oversize, slow, redirecting), the document's own rules (client_id equal to the
URL, no secret, redirect URIs, name, logo), and the client row that mirrors it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from provider.context import CLIENT_DOCUMENT_MAX_BYTES, Caller, Services
from provider.domain_errors import RateLimited, UntrustedAuthorizationRequest
from provider.net.documents import DocumentCache
from provider.net.outbound import OutboundPolicy, fetch_json
from provider.oauth.authorization_request import load_client_and_redirect
from provider.storage.models import AuditEvent, Client
from tests.https_server import HttpsServer, https_server

CALLER = Caller(ip="203.0.113.9", user_agent="core-tests", request_id="req-cimd")
CALLBACK = "http://127.0.0.1/callback"


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    with https_server(tmp_path_factory.mktemp("cimd")) as server:
        yield server


def _services(services: Services, policy: OutboundPolicy) -> Services:
    return replace(services, client_documents=DocumentCache(lambda u: fetch_json(u, policy)))


@pytest.fixture
def dev(services: Services, remote: HttpsServer) -> Services:
    """Private targets allowed (the test server is on loopback), its CA trusted, 1 s deadline."""
    remote.documents.hits.clear()
    remote.documents.pages.clear()
    remote.documents.cache_control = "max-age=300"
    policy = OutboundPolicy(
        allow_private=True,
        ca_file=remote.ca_file,
        deadline=1.0,
        max_bytes=CLIENT_DOCUMENT_MAX_BYTES,
    )
    return _services(services, policy)


def _document(url: str, **fields: object) -> dict[str, object]:
    return {
        "client_id": url,
        "client_name": "Agent",
        "redirect_uris": [CALLBACK],
        "logo_uri": "https://agent.example/logo.png",
        "token_endpoint_auth_method": "none",
        **fields,
    }


async def _load(services: Services, client_id: str, redirect_uri: str = CALLBACK) -> Client:
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid"}
    client, _ = await load_client_and_redirect(services, CALLER, params)
    return client


async def _refused(services: Services, client_id: str, reason: str) -> None:
    with pytest.raises(UntrustedAuthorizationRequest) as refused:
        await _load(services, client_id)
    assert reason in refused.value.message, refused.value.message
    assert not await Client.filter(id=client_id).exists()


async def test_a_document_becomes_a_public_client_used_on_any_loopback_port(
    dev: Services, remote: HttpsServer
) -> None:
    url = remote.url + "/agent.json"
    remote.documents.pages["/agent.json"] = _document(url)
    client = await _load(dev, url, "http://127.0.0.1:49152/callback")
    assert (client.id, client.name, client.public) == (url, "Agent", True)
    assert (client.registration, client.first_party) == ("metadata_document", False)
    assert client.token_endpoint_auth_method == "none"
    assert client.client_metadata == {"logo_uri": "https://agent.example/logo.png"}
    await _load(dev, url)
    # Cached for its max-age: one fetch, one row, one audit row.
    assert remote.documents.hits["/agent.json"] == 1
    assert await AuditEvent.filter(event="client.metadata_document_read").count() == 1


async def test_a_changed_document_updates_the_client_once_the_cache_expires(
    dev: Services, remote: HttpsServer
) -> None:
    url = remote.url + "/changing.json"
    remote.documents.cache_control = "no-store"
    remote.documents.pages["/changing.json"] = _document(url)
    await _load(dev, url)
    remote.documents.pages["/changing.json"] = _document(url, client_name="Agent 2")
    fresh = _services(dev, OutboundPolicy(allow_private=True, ca_file=remote.ca_file))
    assert (await _load(fresh, url)).name == "Agent 2"


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1/client.json",  # loopback
        "https://[::1]/client.json",
        "https://10.0.0.8/client.json",  # private
        "https://192.168.1.20/client.json",
        "https://[fc00::1]/client.json",
        "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "https://[fe80::1]/client.json",
        "https://224.0.0.1/client.json",  # multicast
        "https://240.0.0.1/client.json",  # reserved
        "https://0.0.0.0/client.json",  # unspecified
        "https://[::ffff:127.0.0.1]/client.json",  # IPv4-mapped
    ],
)
async def test_each_forbidden_address_class_is_refused_before_connecting(
    services: Services, client_id: str
) -> None:
    await _refused(services, client_id, "could not be fetched")


async def test_a_name_resolving_to_loopback_is_refused_at_connect_time(
    services: Services, remote: HttpsServer
) -> None:
    remote.documents.hits.clear()
    url = remote.url + "/agent.json"  # https://localhost:<port>/…
    remote.documents.pages["/agent.json"] = _document(url)
    strict = _services(services, OutboundPolicy(allow_private=False, ca_file=remote.ca_file))
    await _refused(strict, url, "could not be fetched")
    assert remote.documents.hits["/agent.json"] == 0


async def test_an_oversized_document_is_refused(dev: Services, remote: HttpsServer) -> None:
    url = remote.url + "/big-client.json"
    remote.documents.pages["/big-client.json"] = _document(url, padding="x" * 6000)
    await _refused(dev, url, "could not be fetched")


async def test_a_slow_document_ends_at_the_deadline(dev: Services, remote: HttpsServer) -> None:
    await _refused(dev, remote.url + "/slow", "could not be fetched")


async def test_a_redirect_is_not_followed(dev: Services, remote: HttpsServer) -> None:
    await _refused(dev, remote.url + "/redirect", "could not be fetched")
    assert remote.documents.hits["/jwks"] == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"client_id": "https://elsewhere.example/agent.json"}, "names another client_id"),
        ({"client_secret": "s3cret"}, "holds a client secret"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "must use"),
        ({"redirect_uris": ["https://evil.test/cb#frag"]}, "not acceptable"),
        ({"redirect_uris": []}, "not acceptable"),
        ({"logo_uri": "http://agent.example/logo.png"}, "not acceptable"),
        ({"client_name": ["not", "a", "name"]}, "not acceptable"),
    ],
)
async def test_a_document_breaking_its_rules_is_refused(
    dev: Services, remote: HttpsServer, fields: dict[str, object], reason: str
) -> None:
    url = remote.url + "/bad.json"
    remote.documents.pages["/bad.json"] = {**_document(url), **fields}
    await _refused(dev, url, reason)


@pytest.mark.parametrize(
    "client_id",
    [
        "https://agent.example/",  # no path
        "https://agent.example/a/../b.json",
        "https://agent.example/./b.json",
        "https://user:pw@agent.example/b.json",
        "https://agent.example/b.json#x",
        "https://agent.example/" + "a" * 130,
    ],
)
async def test_a_client_id_url_breaking_the_rules_is_refused(dev: Services, client_id: str) -> None:
    with pytest.raises(UntrustedAuthorizationRequest):
        await _load(dev, client_id)


async def test_http_client_ids_and_disabled_documents_are_unknown(
    services: Services,
) -> None:
    await _refused(services, "http://agent.example/client.json", "not known")
    off = replace(
        services,
        settings=services.settings.model_copy(update={"client_id_metadata_documents": False}),
    )
    await _refused(off, "https://agent.example/client.json", "not known")


async def test_new_documents_count_against_the_registration_limit(
    dev: Services, remote: HttpsServer
) -> None:
    limited = replace(
        dev, settings=dev.settings.model_copy(update={"ratelimit_registration_per_ip": 2})
    )
    for name in ("one", "two", "three"):
        remote.documents.pages[f"/{name}.json"] = _document(remote.url + f"/{name}.json")
    await _load(limited, remote.url + "/one.json")
    await _load(limited, remote.url + "/one.json")  # known already: not counted again
    await _load(limited, remote.url + "/two.json")
    with pytest.raises(RateLimited):
        await _load(limited, remote.url + "/three.json")
    assert remote.documents.hits["/three.json"] == 0
    assert not await Client.filter(id=remote.url + "/three.json").exists()
