"""The first minutes of a newcomer: `serve` with nothing but a port, what it prints, a taken port,
and the first administrator from the environment."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from provider.storage.models import AuditEvent, OneTimeToken, User
from tests.hosted import alert_of, get, post_form, sign_in_for
from tests.oidc import Browser
from tests.support import ROOT, Server, free_port, start_server

pytestmark = pytest.mark.e2e

ADMIN_EMAIL = "first.admin@example.com"
NEW_PASSWORD = "the first admin's passphrase"
SETUP_LINK = re.compile(r"open (http://\S+/password/reset\?token=[A-Za-z0-9_-]+) to choose")


def _bare_env(**settings: str) -> dict[str, str]:
    """The environment without any PROVIDER_ setting but the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
    env.update({f"PROVIDER_{name.upper()}": value for name, value in settings.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


def _start_bare(workdir: Path, port: int, **settings: str) -> subprocess.Popen[bytes]:
    log = (workdir / "server.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "provider", "serve"],
        cwd=workdir,
        env=_bare_env(port=str(port), **settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(log.read_text())


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_with_only_a_port_discovery_advertises_it_and_serve_prints_the_urls(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start_bare(tmp_path, port)
    try:
        _wait_healthy(url, process, tmp_path / "server.log")
        metadata = httpx.get(f"{url}/.well-known/openid-configuration").json()
        assert metadata["issuer"] == url
        assert metadata["authorization_endpoint"] == f"{url}/authorize"
        assert metadata["jwks_uri"].startswith(f"{url}/")
    finally:
        _stop(process)
    log = (tmp_path / "server.log").read_text()
    ready = next(line for line in log.splitlines() if "ready:" in line)
    for path in ("", "/login", "/admin", "/docs"):
        assert f"{url}{path} " in ready + " ", ready


def test_a_taken_port_names_the_port_and_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "provider", "serve"],
            cwd=tmp_path,
            env=_bare_env(port=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("provider: ")
    assert f"port {port}" in last
    assert "PROVIDER_PORT" in last


async def test_the_bootstrap_admin_link_sets_the_password_once_and_survives_restarts(
    base_env: dict[str, str], tmp_path: Path, clean: None
) -> None:
    env = {**base_env, "PROVIDER_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL}
    server: Server = await asyncio.to_thread(start_server, env, tmp_path)
    try:
        links = SETUP_LINK.findall(server.log())
        assert len(links) == 1, server.log()
        link = links[0]
        assert link.startswith(server.url + "/password/reset?token=")
        admin = await User.get(email=ADMIN_EMAIL)
        assert admin.role == "admin"
        rows = await AuditEvent.filter(event="admin.bootstrapped").values("user_id", "details")
        assert rows == [{"user_id": admin.id, "details": {"outcome": "created", "via": "env"}}]

        async with Browser.open(server.url) as browser:
            # No password works before the link is used.
            refused = await sign_in_for(browser, ADMIN_EMAIL, NEW_PASSWORD, "/admin")
            assert refused.status_code == 401
            page = await get(browser, link.removeprefix(server.url))
            assert page.status_code == 200
            done = await post_form(browser, "/password/reset", page, password=NEW_PASSWORD)
            assert done.status_code == 200
            assert "Password changed" in done.text
            again = await post_form(browser, "/password/reset", page, password=NEW_PASSWORD + "!")
            assert again.status_code == 400
            assert "already used" in alert_of(again)

            console = await sign_in_for(browser, ADMIN_EMAIL, NEW_PASSWORD, "/admin")
            assert console.status_code == 200
            assert browser.pages[-1] == "/admin"
            assert ADMIN_EMAIL in console.text
    finally:
        server.stop()
    assert (await User.get(email=ADMIN_EMAIL)).email_verified_at is not None

    # A restart with the same setting creates nothing and prints no new link.
    (tmp_path / "again").mkdir()
    restarted: Server = await asyncio.to_thread(start_server, env, tmp_path / "again")
    try:
        assert SETUP_LINK.findall(restarted.log()) == []
        assert await User.filter(email=ADMIN_EMAIL).count() == 1
        assert await AuditEvent.filter(event="admin.bootstrapped").count() == 1
        assert await OneTimeToken.filter(purpose="reset_password", used_at=None).count() == 0
    finally:
        restarted.stop()
