"""A self-registered client (dynamic registration or client ID metadata document) is never
first-party: the user is always asked, and the consent page says it is not verified by the
organisation (and, for a metadata document, names the host that describes it). An
administrator-registered client is not marked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from provider.storage.models import Client
from tests.admin_support import admin
from tests.https_server import HttpsServer, https_server
from tests.oidc import (
    Browser,
    RegisteredClient,
    auth_params,
    csrf_of,
    hidden_fields,
    is_consent_page,
    pkce_pair,
)
from tests.oidc import register_client as admin_registered
from tests.support import PASSWORD, register

EMAIL = "ada@example.com"


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    with https_server(tmp_path_factory.mktemp("cimd-host")) as server:
        yield server


async def _consent_page(base_url: str, rp: RegisteredClient) -> httpx.Response:
    _, challenge = pkce_pair()
    async with Browser.open(base_url) as browser:
        params = auth_params(rp, code_challenge=challenge, code_challenge_method="S256")
        response = await browser.authorize(params)
        response = await browser.submit_login(response, EMAIL, PASSWORD)
        assert is_consent_page(response), response.text[:500]
        return response


async def test_a_dynamically_registered_client_is_marked_unverified(server_with: Any) -> None:
    server = await server_with(registration_open="true", org_name="Example Corp")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email=EMAIL)
        registered = await http.post(
            "/oauth/clients",
            json={
                "client_name": "Agent",
                "redirect_uris": ["http://127.0.0.1/cb"],
                "token_endpoint_auth_method": "none",
                # Asking for it changes nothing: RFC 7591 has no such field, it is ignored.
                "first_party": True,
            },
        )
    body = registered.json()
    assert (await Client.get(id=body["client_id"])).first_party is False
    rp = RegisteredClient(body["client_id"], None, "http://127.0.0.1:8765/cb")
    page = await _consent_page(server.url, rp)
    assert 'id="unverified"' in page.text
    assert "not verified by Example Corp" in page.text


async def test_a_metadata_document_client_is_marked_with_its_host(
    server_with: Any, remote: HttpsServer
) -> None:
    server = await server_with(outbound_allow_private="true", outbound_ca_file=str(remote.ca_file))
    url = remote.url + "/agent/client.json"
    remote.documents.pages["/agent/client.json"] = {
        "client_id": url,
        "client_name": "Doc Agent",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "token_endpoint_auth_method": "none",
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email=EMAIL)
    page = await _consent_page(
        server.url, RegisteredClient(url, None, "http://127.0.0.1:9999/callback")
    )
    assert "Doc Agent" in page.text
    assert "not verified by 127.0.0.1" in page.text  # the issuer's host without PROVIDER_ORG_NAME
    assert "described by <strong>localhost</strong>" in page.text
    row = await Client.get(id=url)
    assert (row.registration, row.public) == ("metadata_document", True)


async def test_an_administrator_registered_client_is_not_marked(server_with: Any) -> None:
    server = await server_with(registration_open="true", org_name="Example Corp")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, email=EMAIL)
    page = await _consent_page(server.url, await admin_registered())
    assert 'id="unverified"' not in page.text


async def test_the_admin_sees_self_registered_clients_and_cannot_make_them_first_party(
    server_with: Any,
) -> None:
    server = await server_with(registration_open="true", org_name="Example Corp")
    url = "https://agent.example/client.json"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        registered = (
            await http.post(
                "/oauth/clients",
                json={
                    "redirect_uris": ["http://127.0.0.1/cb"],
                    "token_endpoint_auth_method": "none",
                },
            )
        ).json()
        await Client.create(id=url, name="Doc", public=True, registration="metadata_document")
        headers = await admin(http)
        listed = (await http.get("/v1/admin/clients", headers=headers)).json()["clients"]
        kinds = {c["client_id"]: c["registration"] for c in listed}
        assert kinds == {registered["client_id"]: "dynamic", url: "metadata_document"}
        promoted = await http.patch(
            f"/v1/admin/clients/{registered['client_id']}",
            json={"first_party": True},
            headers=headers,
        )
        assert promoted.status_code == 400, promoted.text
        assert (await Client.get(id=registered["client_id"])).first_party is False
        # A URL client id reaches its admin page, encoded as one path segment.
        one = await http.get(f"/v1/admin/clients/{quote(url, safe='')}", headers=headers)
        assert one.status_code == 200, one.text
        assert one.json()["client"]["registration"] == "metadata_document"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as browser:
        page = await browser.get("/login", params={"next": "/admin/clients"})
        form = {**hidden_fields(page.text), "identifier": "root@example.com", "password": PASSWORD}
        assert (await browser.post("/login", data=form)).status_code in (302, 303)
        listing = await browser.get("/admin/clients")
        link = f'href="/admin/clients/{quote(url, safe="")}"'
        assert link in listing.text
        assert 'data-registration="dynamic"' in listing.text
        detail = await browser.get(f"/admin/clients/{quote(url, safe='')}")
        assert detail.status_code == 200
        assert "its client ID metadata document" in detail.text
        disabled = await browser.post(
            f"/admin/clients/{quote(url, safe='')}/disable", data={"csrf": csrf_of(detail.text)}
        )
        assert disabled.status_code == 303
        assert disabled.headers["location"] == f"/admin/clients/{quote(url, safe='')}?done=disabled"
        assert (await Client.get(id=url)).disabled


async def test_new_metadata_documents_per_address_are_limited(server_with: Any) -> None:
    server = await server_with(ratelimit_registration_per_ip="1")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        params = {"response_type": "code", "scope": "openid", "redirect_uri": "http://127.0.0.1/cb"}
        # A private address is refused before any connection, but it was a new client all the same.
        first = await http.get(
            "/authorize", params={**params, "client_id": "https://10.0.0.1/a.json"}
        )
        assert first.status_code == 400
        assert "could not be fetched" in first.text
        second = await http.get(
            "/authorize", params={**params, "client_id": "https://10.0.0.1/b.json"}
        )
        assert second.status_code == 429
        assert int(second.headers["retry-after"]) > 0
        assert second.headers["content-type"].startswith("text/html")
