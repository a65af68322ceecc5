"""A protected API end to end: authlib's client runs the code flow with `resource` (RFC 8707),
the example API of clients/ accepts the token, and refuses one for another resource with 401 and
the RFC 9728 `resource_metadata` hint that leads back to the provider."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from provider.storage.models import ResourceServer
from tests.oidc import REDIRECT_URI, Browser, is_consent_page, is_login_page, register_client
from tests.support import PASSWORD, Server, free_port, register, start_process

OTHER = "https://other.example.com/api"


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)


async def test_a_token_for_the_api_works_there_and_one_for_another_does_not(
    server: Server,
    client: httpx.AsyncClient,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    await register(client)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    await ResourceServer.create(identifier=api, name="Orders", scopes=["orders.read"])
    await ResourceServer.create(identifier=OTHER, name="Other", scopes=["other.read"])
    rp = await register_client(scopes=["openid", "offline_access"])
    args = ["-m", "clients.resource_server", "--issuer", server.url, "--audience", api]
    args += ["--port", str(port), "--scope", "orders.read"]
    processes.append(
        start_process(args, f"http://127.0.0.1:{port}/api/hello", tmp_path / "api.log")
    )

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        # What a client that knows only the API learns from it (RFC 9728 §5.1, §3).
        first = await http.get("/api/hello")
        assert first.status_code == 401
        hint = (
            f'resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/api"'
        )
        assert first.headers["www-authenticate"] == f"Bearer {hint}"
        document = (await http.get("/.well-known/oauth-protected-resource/api")).json()
        assert document == {
            "resource": api,
            "authorization_servers": [server.url],
            "bearer_methods_supported": ["header"],
            "scopes_supported": ["orders.read"],
        }
    issuer = document["authorization_servers"][0]
    metadata = (await client.get(f"{issuer}/.well-known/oauth-authorization-server")).json()

    oauth = AsyncOAuth2Client(
        rp.client_id,
        rp.secret,
        scope="openid offline_access orders.read other.read",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = "v" * 64
    url, state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, resource=api
    )
    # The grant covers both APIs: the authorization request names each (RFC 8707 §2.1).
    url += "&" + urlencode({"resource": OTHER})
    async with httpx.AsyncClient(base_url=server.url) as http:
        browser = Browser(http)
        page = await browser.follow(await http.get(url))
        if is_login_page(page):
            page = await browser.submit_login(page, "ada@example.com", PASSWORD)
        if is_consent_page(page):
            page = await browser.submit_consent(page)
        assert page.status_code == 302, page.text[:500]
        callback = page.headers["location"]

    async with oauth:
        token = await oauth.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            state=state,
            code_verifier=verifier,
            resource=api,
        )
        assert token["scope"] == "openid orders.read"
        other = await oauth.refresh_token(
            metadata["token_endpoint"], refresh_token=token["refresh_token"], resource=OTHER
        )
        assert other["scope"] == "openid other.read"

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        ok = await http.get(
            "/api/hello", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["scope"] == "openid orders.read"
        refused = await http.get(
            "/api/hello", headers={"Authorization": f"Bearer {other['access_token']}"}
        )
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == f'Bearer {hint}, error="invalid_token"'
