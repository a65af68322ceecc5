"""The Model Context Protocol SDK's OAuth client (`mcp`'s OAuthClientProvider, over httpx2)
against this provider, end to end, as an AI agent meets a tool server it has never seen:

1. it calls the API of clients/resource_server.py and gets 401 with `resource_metadata`;
2. it reads the API's RFC 9728 metadata, finds this provider, reads its RFC 8414 metadata;
3. it registers itself (RFC 7591), or in the second test names its client ID metadata document
   (served here over https by tests/https_server.py), as the MCP authorization spec allows;
4. it runs the code flow with PKCE and `resource` (RFC 8707): the hosted sign-in and consent
   pages are driven by an HTTP session through the SDK's redirect and callback handlers;
5. its retried call succeeds; a token this client got for another resource is refused by the API
   with 401 and the `resource_metadata` hint.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from provider.storage.models import Client, ResourceServer
from tests.https_server import HttpsServer, https_server
from tests.oidc import (
    Browser,
    RegisteredClient,
    is_consent_page,
    is_login_page,
    query_of,
    sign_in_for_tokens,
)
from tests.support import PASSWORD, Server, free_port, register, start_process

EMAIL = "ada@example.com"
OTHER = "https://other.example.com/api"
CALLBACK = "http://127.0.0.1:{port}/callback"


@dataclass
class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class HostedSignIn:
    """The person at the browser: the SDK hands over the authorization URL (redirect handler),
    we sign in and consent on the hosted pages, and hand back the redirect's query (callback)."""

    issuer: str
    redirect_uri: str
    visited: list[str] = field(default_factory=list)
    answer: dict[str, str] = field(default_factory=dict)

    async def redirect(self, authorization_url: str) -> None:
        self.visited.append(authorization_url)
        async with Browser.open(self.issuer) as browser:
            page = await browser.follow(await browser.http.get(authorization_url))
            if is_login_page(page):
                page = await browser.submit_login(page, EMAIL, PASSWORD)
            assert is_consent_page(page), page.text[:500]
            assert 'id="unverified"' in page.text  # a self-registered client is marked
            page = await browser.submit_consent(page)
            assert page.status_code == 302, page.text[:500]
            location = page.headers["location"]
            assert location.startswith(self.redirect_uri), location
            self.answer = query_of(location)

    async def callback(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(
            code=self.answer["code"], state=self.answer.get("state"), iss=self.answer.get("iss")
        )


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    """The https host of the client ID metadata document."""
    with https_server(tmp_path_factory.mktemp("mcp-client-host")) as server:
        yield server


@pytest.fixture
async def provider_server(server_with: Any, remote: HttpsServer) -> Server:
    # Open registration, as MCP clients register without an initial access token; the document
    # host is this machine, so private addresses are allowed (the development setting).
    server: Server = await server_with(
        registration_open="true",
        outbound_allow_private="true",
        outbound_ca_file=str(remote.ca_file),
    )
    return server


@pytest.fixture
def api(provider_server: Server, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    args = ["-m", "clients.resource_server", "--issuer", provider_server.url, "--audience", url]
    args += ["--port", str(port), "--scope", "orders.read"]
    process: subprocess.Popen[bytes] = start_process(
        args, f"http://127.0.0.1:{port}/api/hello", tmp_path / "api.log"
    )
    yield url
    process.terminate()
    process.wait(timeout=10)


async def _resources_and_user(provider_server: Server, api: str) -> None:
    await ResourceServer.create(identifier=api, name="Orders", scopes=["orders.read"])
    await ResourceServer.create(identifier=OTHER, name="Other", scopes=["other.read"])
    async with httpx.AsyncClient(base_url=provider_server.url, timeout=30) as http:
        await register(http, email=EMAIL)


async def _call_with_mcp(
    api: str, provider_server: Server, metadata_url: str | None = None
) -> tuple[MemoryStorage, HostedSignIn]:
    redirect_uri = CALLBACK.format(port=free_port())
    storage = MemoryStorage()
    person = HostedSignIn(provider_server.url, redirect_uri)
    auth = OAuthClientProvider(
        server_url=api,
        client_metadata=OAuthClientMetadata(
            client_name="MCP agent",
            redirect_uris=[redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.redirect,
        callback_handler=person.callback,
        client_metadata_url=metadata_url,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        response = await http.get(api + "/hello")
    assert response.status_code == 200, response.text
    body = response.json()
    # The token for the API carries the scopes that API defines (RFC 8707 downscoping); the
    # grant's offline_access gave the SDK a refresh token.
    assert body["scope"] == "orders.read"
    assert storage.tokens is not None
    assert storage.tokens.refresh_token
    assert storage.client_info is not None
    assert body["client_id"] == storage.client_info.client_id
    # The code flow named the API as its resource (RFC 8707) and used PKCE.
    (authorization_url,) = person.visited
    asked = query_of(authorization_url)
    assert asked["resource"] == api
    assert asked["code_challenge_method"] == "S256"
    return storage, person


async def _refused_for_another_resource(
    api: str, provider_server: Server, client_id: str, redirect_uri: str
) -> None:
    """The same client, granted a token for another API: the example API refuses it."""
    rp = RegisteredClient(client_id, None, redirect_uri)
    async with Browser.open(provider_server.url) as browser:
        tokens, _ = await sign_in_for_tokens(
            browser, rp, EMAIL, PASSWORD, auth="none", scope="other.read", resource=OTHER
        )
    async with httpx.AsyncClient() as http:
        refused = await http.get(
            api + "/hello", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert "resource_metadata=" in challenge
    assert "/.well-known/oauth-protected-resource" in challenge


async def test_the_mcp_sdk_registers_itself_and_calls_the_api(
    provider_server: Server, api: str
) -> None:
    await _resources_and_user(provider_server, api)
    storage, person = await _call_with_mcp(api, provider_server)
    assert storage.client_info is not None
    client_id = storage.client_info.client_id
    row = await Client.get(id=client_id)
    assert (row.registration, row.public, row.first_party) == ("dynamic", True, False)
    assert row.registration_token_hash is not None  # RFC 7592 management is possible
    await _refused_for_another_resource(api, provider_server, client_id, person.redirect_uri)


async def test_the_mcp_sdk_uses_a_client_id_metadata_document(
    provider_server: Server, api: str, remote: HttpsServer
) -> None:
    await _resources_and_user(provider_server, api)
    document_url = remote.url + "/mcp/agent.json"
    redirect_uri = "http://127.0.0.1/callback"  # any loopback port (RFC 8252 §7.3)
    remote.documents.pages["/mcp/agent.json"] = {
        "client_id": document_url,
        "client_name": "MCP document agent",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    storage, person = await _call_with_mcp(api, provider_server, metadata_url=document_url)
    assert storage.client_info is not None
    assert storage.client_info.client_id == document_url
    row = await Client.get(id=document_url)
    assert (row.registration, row.name, row.public) == (
        "metadata_document",
        "MCP document agent",
        True,
    )
    # No dynamic registration happened.
    assert not await Client.filter(registration="dynamic").exists()
    await _refused_for_another_resource(api, provider_server, document_url, person.redirect_uri)
