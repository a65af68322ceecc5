"""The clients/ examples against the real provider: a web app signs in, an API checks tokens."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from playwright.async_api import Page

from provider.crypto.keys import read_keys
from tests.oidc import register_client
from tests.support import PASSWORD, Server, free_port, register, start_process


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)


async def test_rp_webapp_signs_in_through_the_hosted_pages(
    server: Server,
    client: httpx.AsyncClient,
    page: Page,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    await register(client)
    port = free_port()
    rp_url = f"http://127.0.0.1:{port}"
    rp = await register_client(
        redirect_uris=[f"{rp_url}/callback"], post_logout_redirect_uris=[f"{rp_url}/"]
    )
    assert rp.secret is not None
    args = [
        "-m",
        "clients.rp_webapp",
        "--issuer",
        server.url,
        f"--client-id={rp.client_id}",
        f"--client-secret={rp.secret}",
        "--port",
        str(port),
    ]
    processes.append(start_process(args, rp_url, tmp_path / "rp.log"))

    await page.goto(f"{rp_url}/login")
    await page.fill("input[name=identifier]", "ada@example.com")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#sign-in")
    await page.click("#allow")
    await page.wait_for_url(f"{rp_url}/")
    await page.goto(f"{rp_url}/me")
    result = json.loads(await page.inner_text("body"))
    assert result["id_token_claims"]["email"] == "ada@example.com"
    assert result["userinfo"]["sub"] == result["id_token_claims"]["sub"]
    assert result["tokens"]["refresh_token"]


async def test_resource_server_accepts_ours_and_refuses_the_rest(
    server: Server,
    client: httpx.AsyncClient,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    audience = "https://api.example"
    service = await register_client(
        name="Service",
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=[],
        audience=audience,
    )
    stranger = await register_client(
        name="Other",
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=[],
        audience="https://other.example",
    )
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    args = [
        "-m",
        "clients.resource_server",
        "--issuer",
        server.url,
        "--audience",
        audience,
        "--port",
        str(port),
    ]
    processes.append(start_process(args, f"{api}/api/hello", tmp_path / "rs.log"))

    async def token_for(rp: object) -> str:
        response = await client.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=rp.basic(),  # type: ignore[attr-defined]
        )
        assert response.status_code == 200, response.text
        value: str = response.json()["access_token"]
        return value

    good = await token_for(service)
    async with httpx.AsyncClient(base_url=api) as http:
        ok = await http.get("/api/hello", headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 200
        assert ok.json()["client_id"] == service.client_id

        head, body, signature = good.split(".")
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        wrong_audience = await token_for(stranger)
        expired = _expired_token_like(good, Path(server.env["PROVIDER_KEYS_DIR"]))
        for bad in (f"{head}.{body}.{flipped}", wrong_audience, expired, "not-a-jwt"):
            refused = await http.get("/api/hello", headers={"Authorization": f"Bearer {bad}"})
            assert refused.status_code == 401
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        missing = await http.get("/api/hello")
        assert missing.status_code == 401


def _expired_token_like(token: str, keys_dir: Path) -> str:
    """The same claims signed by the provider's own key, but expired an hour ago."""
    record = next(r for r in read_keys(keys_dir) if r.alg == "RS256")
    claims = jwt.decode(token, record.key).claims
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    header = {"alg": "RS256", "kid": record.kid, "typ": "at+jwt"}
    return jwt.encode(header, claims, record.key)
