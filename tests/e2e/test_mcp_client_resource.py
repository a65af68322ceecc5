"""The Model Context Protocol SDK's OAuth client against the example API: it starts from the
API's URL alone, follows the 401's RFC 9728 hint to the provider (RFC 8414), runs the code flow
with PKCE and `resource` (RFC 8707), and calls the API. The client is registered beforehand here;
the sign-in pages are driven by an HTTP session."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

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

from provider.storage.models import ResourceServer
from tests.oidc import (
    REDIRECT_URI,
    Browser,
    is_consent_page,
    is_login_page,
    query_of,
    register_client,
)
from tests.support import PASSWORD, Server, free_port, register, start_process


class MemoryStorage:
    """The SDK's TokenStorage, holding a client registered in advance."""

    def __init__(self, client: OAuthClientInformationFull) -> None:
        self.client = client
        self.tokens: OAuthToken | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)


async def test_the_mcp_client_finds_the_provider_and_calls_the_api(
    server: Server,
    client: httpx.AsyncClient,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    await register(client)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    await ResourceServer.create(identifier=api, name="Orders", scopes=["orders.read"])
    rp = await register_client(scopes=["openid", "offline_access"], public=True, auth_method="none")
    args = ["-m", "clients.resource_server", "--issuer", server.url, "--audience", api]
    args += ["--port", str(port), "--scope", "orders.read"]
    processes.append(start_process(args, f"{api}/hello", tmp_path / "api.log"))
    landed: dict[str, str] = {}

    async def sign_in(url: str) -> None:
        assert url.startswith(f"{server.url}/authorize?")
        async with httpx.AsyncClient(base_url=server.url) as http:
            browser = Browser(http)
            page = await browser.follow(await http.get(url))
            if is_login_page(page):
                page = await browser.submit_login(page, "ada@example.com", PASSWORD)
            if is_consent_page(page):
                page = await browser.submit_consent(page)
            assert page.status_code == 302, page.text[:500]
            landed.update(query_of(page.headers["location"]))

    async def back_at_the_app() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(
            code=landed["code"], state=landed.get("state"), iss=landed.get("iss")
        )

    storage = MemoryStorage(
        OAuthClientInformationFull(
            client_id=rp.client_id,
            redirect_uris=[REDIRECT_URI],
            token_endpoint_auth_method="none",
            grant_types=["authorization_code", "refresh_token"],
        )
    )
    auth = OAuthClientProvider(
        server_url=api,
        client_metadata=OAuthClientMetadata(
            redirect_uris=[REDIRECT_URI], token_endpoint_auth_method="none"
        ),
        storage=storage,
        redirect_handler=sign_in,
        callback_handler=back_at_the_app,
    )
    async with httpx2.AsyncClient(auth=auth) as http:
        response = await http.get(f"{api}/hello")
    assert response.status_code == 200, response.text
    # The scope came from the API's metadata (scopes_supported); the token is for the API only.
    assert response.json()["scope"].split() == ["orders.read"]
    assert storage.tokens is not None
    assert storage.tokens.refresh_token
