"""Caddy in front of two provider instances, as docker-compose.yml runs them, over real TLS.

The project's Caddyfile (`tls internal`, a localhost site on a free port, its local CA in a
temporary data directory) proxies to two `provider serve` processes that share the database, Redis
and the keys folder, with PROVIDER_ISSUER=https://localhost:<port> and PROVIDER_TRUST_PROXY=1. The
client trusts only Caddy's root certificate. Without Caddy, the last tests show what
PROVIDER_TRUST_PROXY changes: forwarded headers are believed with it and ignored without it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis
import yaml
from joserfc import jwt

from provider.storage.models import AuditEvent
from tests.oidc import (
    Browser,
    auth_params,
    csrf_of,
    flow_of,
    is_consent_page,
    key_set,
    pkce_pair,
    redeem_code,
    redirect_query,
    refresh,
    register_client,
)
from tests.support import (
    PASSWORD,
    ROOT,
    RedisProcess,
    Server,
    bearer,
    fast_env,
    free_port,
    login,
    redis_server_binary,
    register,
    rotate_signing_key,
    start_redis,
    start_server,
)

pytestmark = pytest.mark.e2e

IN_CI = os.environ.get("CI", "").lower() == "true"
# What a client outside claims in X-Forwarded-For; Caddy must replace it.
SPOOFED = "203.0.113.66"
_CADDY_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Edge:
    """Caddy on https://localhost:<port> and the two instances behind it."""

    url: str
    tls: ssl.SSLContext
    a: Server
    b: Server
    caddy: subprocess.Popen[bytes]
    caddy_log: Path
    provider_env: dict[str, str]
    redis_url: str

    def client(self, source: str = "127.0.0.1") -> httpx.AsyncClient:
        """A client of the public site from `source`: trusts only Caddy's local CA."""
        transport = httpx.AsyncHTTPTransport(verify=self.tls, local_address=source)
        return httpx.AsyncClient(base_url=self.url, transport=transport, timeout=30)

    @staticmethod
    def direct(server: Server) -> httpx.AsyncClient:
        """A client of one instance, bypassing Caddy (as only the internal network can)."""
        return httpx.AsyncClient(base_url=server.url, timeout=30)

    def served_by(self, request_id: str) -> list[str]:
        """Which instances wrote an access-log line for this request id."""
        return [
            name
            for name, server in (("a", self.a), ("b", self.b))
            if f'"request_id": "{request_id}"' in server.log()
        ]

    def caddy_access_log(self) -> list[dict[str, object]]:
        entries = []
        for line in self.caddy_log.read_text(errors="replace").splitlines():
            if '"http.log.access' in line:
                entries.append(json.loads(line))
        return entries


def _caddy_binary() -> str:
    binary = shutil.which("caddy")
    if binary is None:
        if IN_CI:
            pytest.fail("CI=true but caddy is not installed (apt-get install caddy)")
        pytest.skip("caddy is not installed")
    return binary


@pytest.fixture(scope="module")
def shared_redis_url(redis_url: str) -> Iterator[str]:
    """Instances share rate limits, the denylist and flow state only through Redis."""
    if redis_url:
        yield redis_url
        return
    if redis_server_binary() is None:
        pytest.skip("two instances need a Redis; redis-server is not installed")
    private: RedisProcess = start_redis()
    yield private.url
    private.stop()


def _start_caddy(
    binary: str,
    workdir: Path,
    https_port: int,
    upstreams: list[Server],
    health_interval: str = "1s",
) -> tuple[subprocess.Popen[bytes], Path, ssl.SSLContext]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "XDG_DATA_HOME": str(workdir / "data"),
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "PROVIDER_DOMAIN": f"localhost:{https_port}",
        "PROVIDER_TLS": "internal",
        "PROVIDER_UPSTREAMS": " ".join(f"127.0.0.1:{s.port}" for s in upstreams),
        "CADDY_ADMIN": "off",
        "CADDY_HTTP_PORT": str(free_port()),
        "CADDY_HTTPS_PORT": str(https_port),
        "CADDY_HEALTH_INTERVAL": health_interval,
    }
    log_path = workdir / "caddy.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "run", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    root = workdir / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"caddy exited:\n{log_path.read_text(errors='replace')}")
        if root.exists():
            try:
                context = ssl.create_default_context(cafile=str(root))
                health = httpx.get(
                    f"https://localhost:{https_port}/health", verify=context, timeout=2
                )
                if health.status_code == 200:
                    return process, log_path, context
            except (httpx.HTTPError, ssl.SSLError):
                pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"caddy did not start:\n{log_path.read_text(errors='replace')}")


@contextmanager
def instances_behind_caddy(
    env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    https_port: int,
    shared_redis_url: str,
    health_interval: str = "1s",
) -> Iterator[tuple[Edge, list[Server]]]:
    """Instance a (one process) and b (two workers) behind Caddy on `https_port`.

    The second item is the list of instances stopped at the end: a test that restarts an
    instance puts the new one there.
    """
    binary = _caddy_binary()
    servers: list[Server] = []
    caddy: subprocess.Popen[bytes] | None = None
    try:
        # One after the other: the second start finds the schema migrated.
        servers.append(start_server(env, tmp_path_factory.mktemp(f"{name}-a")))
        env_b = {**env, "PROVIDER_WORKERS": "2"}
        servers.append(start_server(env_b, tmp_path_factory.mktemp(f"{name}-b")))
        a, b = servers
        caddy, caddy_log, context = _start_caddy(
            binary,
            tmp_path_factory.mktemp(f"{name}-caddy"),
            https_port,
            servers,
            health_interval=health_interval,
        )
        url = f"https://localhost:{https_port}"
        yield Edge(url, context, a, b, caddy, caddy_log, env, shared_redis_url), servers
    finally:
        if caddy is not None and caddy.poll() is None:
            caddy.terminate()
            try:
                caddy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                caddy.kill()
                caddy.wait()
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def edge(
    database: str,
    database_url: str,
    shared_redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Edge]:
    https_port = free_port()
    keys_dir = tmp_path_factory.mktemp("edge-keys")
    env = {
        **fast_env(database_url, shared_redis_url, keys_dir),
        "PROVIDER_ISSUER": f"https://localhost:{https_port}",
        "PROVIDER_TRUST_PROXY": "1",
        # Only SIGHUP (or a restart) makes these instances look at the keys folder again.
        "PROVIDER_KEYS_RELOAD_INTERVAL": "3600",
        "PROVIDER_RATELIMIT_REGISTER_PER_IP": "3",
    }
    # As the compose file's `migrate` service does: the first key exists before any instance.
    cli = subprocess.run(
        [sys.executable, "-m", "provider", "keys", "rotate", "--if-missing", "--delay", "0"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    instances = instances_behind_caddy(env, tmp_path_factory, "edge", https_port, shared_redis_url)
    with instances as (edge, _):
        yield edge


@pytest.fixture
async def public(edge: Edge, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of https://localhost:<port>, once both instances answer through Caddy."""
    # `clean` empties the test Redis; a private one (no PROVIDER_TEST_REDIS_URL) is emptied here.
    cache = redis.Redis.from_url(edge.redis_url)
    await cache.flushdb()
    await cache.aclose()
    async with edge.client() as http:
        seen: set[str] = set()
        for attempt in range(100):
            request_id = f"warm-{uuid.uuid4().hex[:12]}-{attempt}"
            response = await http.get("/health", headers={"X-Request-ID": request_id})
            assert response.status_code == 200, response.text
            seen.update(edge.served_by(request_id))
            if seen == {"a", "b"}:
                break
        assert seen == {"a", "b"}, "Caddy did not spread requests over both instances"
        yield http


# --- through Caddy -------------------------------------------------------------------------


async def test_discovery_headers_and_the_hidden_metrics(
    edge: Edge, public: httpx.AsyncClient
) -> None:
    response = await public.get("/.well-known/openid-configuration")
    assert response.status_code == 200, response.text
    meta = response.json()
    assert meta["issuer"] == edge.url
    urls = [value for key, value in meta.items() if key.endswith(("_endpoint", "_uri"))]
    assert urls
    assert all(url.startswith(f"{edge.url}/") for url in urls), urls
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "server" not in response.headers
    # No X-Request-ID from the client: Caddy made one (a dashed UUID) and the instance used it.
    generated = response.headers["x-request-id"]
    assert _CADDY_UUID.match(generated), generated
    assert edge.served_by(generated)
    # One the client sent is kept end to end.
    response = await public.get("/health", headers={"X-Request-ID": "edge-request-1"})
    assert response.headers["x-request-id"] == "edge-request-1"
    assert len(edge.served_by("edge-request-1")) == 1

    for encoding in ("zstd", "gzip"):
        async with public.stream(
            "GET", "/.well-known/openid-configuration", headers={"Accept-Encoding": encoding}
        ) as streamed:
            assert streamed.headers.get("content-encoding") == encoding
    gzipped = await public.get(
        "/.well-known/openid-configuration", headers={"Accept-Encoding": "gzip"}
    )
    assert gzipped.json() == meta

    for path in ("/metrics", "/metrics/", "/metrics?format=text"):
        hidden = await public.get(path)
        assert hidden.status_code == 404, (path, hidden.text[:200])
        assert "provider_http_requests_total" not in hidden.text
    async with edge.direct(edge.a) as internal:
        scraped = await internal.get("/metrics")
    assert scraped.status_code == 200
    assert "provider_http_requests_total" in scraped.text

    # The access log is JSON and keeps credentials out.
    await public.get("/health", headers={"Authorization": "Bearer do-not-log-me"})
    # The secrets of mailed links (reset, verification) are redacted like id_token_hint.
    for path in ("/password/reset", "/email/verify"):
        await public.get(path, params={"token": f"link-secret-{path[1:6]}", "next": "/account"})
    await asyncio.sleep(0.5)
    entries = edge.caddy_access_log()
    assert any(entry.get("status") == 404 for entry in entries)
    written = edge.caddy_log.read_text(errors="replace")
    assert "do-not-log-me" not in written
    assert "link-secret" not in written
    linked = [
        entry["request"]["uri"]  # type: ignore[index]
        for entry in entries
        if str(entry["request"]["uri"]).startswith(("/password/reset?", "/email/verify?"))  # type: ignore[index]
    ]
    assert sorted(linked) == [
        "/email/verify?next=%2Faccount&token=REDACTED",
        "/password/reset?next=%2Faccount&token=REDACTED",
    ]


def _health_checks() -> dict[str, list[str]]:
    """The Dockerfile's HEALTHCHECK and the compose file's, as argument lists."""
    dockerfile = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    image = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", dockerfile, re.MULTILINE)
    assert image, "no HEALTHCHECK in the Dockerfile"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    test = compose["services"]["provider-1"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return {"image": json.loads(image.group(1)), "compose": test[1:]}


async def test_the_health_checks_of_image_and_compose_run_against_an_instance(
    edge: Edge, public: httpx.AsyncClient
) -> None:
    for name, command in _health_checks().items():
        assert command[0] == "python", command
        argv = [sys.executable, *command[1:]]
        for port, expected in ((edge.a.port, 0), (free_port(), 1)):
            result = await asyncio.to_thread(
                subprocess.run,
                argv,
                env={"PATH": os.environ.get("PATH", ""), "PROVIDER_PORT": str(port)},
                capture_output=True,
                timeout=30,
                check=False,
            )
            assert result.returncode == expected, (name, port, result.stderr)


async def test_code_flow_over_https_and_refresh_on_each_instance(
    edge: Edge, public: httpx.AsyncClient
) -> None:
    await register(public)
    rp = await register_client()
    browser = Browser(public)
    verifier, challenge = pkce_pair()
    params = auth_params(
        rp,
        scope="openid profile email offline_access",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    page = await browser.authorize(params)
    assert 'action="/login"' in page.text, page.text[:500]

    # The login POST claims another address; Caddy replaces it with the real one.
    signed_in = await public.post(
        "/login",
        data={
            "flow": flow_of(page.text),
            "csrf": csrf_of(page.text),
            "identifier": "ada@example.com",
            "password": PASSWORD,
        },
        headers={"X-Forwarded-For": SPOOFED},
    )
    assert signed_in.status_code == 303, signed_in.text[:500]
    cookies = signed_in.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-sid="))
    attributes = {part.strip().lower() for part in session_cookie.split(";")[1:]}
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= attributes, session_cookie
    assert not any(part.startswith("domain") for part in attributes), session_cookie

    response = await browser.follow(signed_in)
    if is_consent_page(response):
        response = await browser.submit_consent(response)
    result = redirect_query(response, rp)
    assert result["iss"] == edge.url
    assert result["state"] == params["state"]

    audit = await AuditEvent.filter(event__in=["user.login", "session.created"])
    assert {row.event for row in audit} == {"user.login", "session.created"}
    assert {row.ip for row in audit} == {"127.0.0.1"}, [(r.event, r.ip) for r in audit]

    tokens = await redeem_code(public, rp, result["code"], verifier=verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    claims = jwt.decode(body["id_token"], await key_set(public)).claims
    assert claims["iss"] == edge.url

    # The refresh token works on either instance, directly, one after the other.
    refresh_token = body["refresh_token"]
    access_tokens = []
    for server in (edge.a, edge.b, edge.a):
        async with edge.direct(server) as http:
            rotated = await refresh(http, rp, refresh_token)
            assert rotated.status_code == 200, rotated.text
            refresh_token = rotated.json()["refresh_token"]
            access_tokens.append(rotated.json()["access_token"])
    through = await refresh(public, rp, refresh_token)
    assert through.status_code == 200, through.text
    access_token = through.json()["access_token"]

    # An access token from one instance is accepted by the other; revoked on one, dead on both.
    for server in (edge.a, edge.b):
        async with edge.direct(server) as http:
            info = await http.get("/userinfo", headers=bearer(access_token))
            assert info.status_code == 200, info.text
            assert info.json()["sub"] == claims["sub"]
    async with edge.direct(edge.a) as http:
        revoked = await http.post(
            "/revoke",
            data={"token": access_token, "token_type_hint": "access_token"},
            auth=rp.basic(),
        )
        assert revoked.status_code == 200
    async with edge.direct(edge.b) as http:
        info = await http.get("/userinfo", headers=bearer(access_token))
        assert info.status_code == 401
    info = await public.get("/userinfo", headers=bearer(access_token))
    assert info.status_code == 401
    # A replayed refresh token is caught on the other instance as well.
    async with edge.direct(edge.b) as http:
        replay = await refresh(http, rp, body["refresh_token"])
        assert replay.status_code == 400
        assert replay.json()["error"] == "invalid_grant"


async def test_rate_limits_are_shared_and_keyed_on_the_real_client(
    edge: Edge, public: httpx.AsyncClient
) -> None:
    """PROVIDER_RATELIMIT_REGISTER_PER_IP=3 for 127.0.0.1, whichever instance counts."""
    statuses = []
    async with edge.direct(edge.a) as a, edge.direct(edge.b) as b:
        for number, http in enumerate((a, b, public, public, a)):
            response = await http.post(
                "/v1/auth/register",
                json={"email": f"user{number}@example.com", "password": PASSWORD, "name": "U"},
                headers={"X-Forwarded-For": f"198.51.100.{number}"} if http is public else {},
            )
            statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429, 429]

    # Another client address has its own window: the limit counts the address Caddy forwards,
    # not Caddy's own (127.0.0.1, as for every request above).
    async with edge.client(source="127.0.0.2") as other:
        response = await other.post(
            "/v1/auth/register",
            json={"email": "other@example.com", "password": PASSWORD, "name": "O"},
        )
    assert response.status_code == 201, response.text
    row = await AuditEvent.get(event="user.registered", user_id=response.json()["user"]["id"])
    assert row.ip == "127.0.0.2"


async def test_a_rotated_key_reaches_running_instances_on_sighup(
    edge: Edge, public: httpx.AsyncClient
) -> None:
    async def kids(server: Server) -> set[str]:
        async with edge.direct(server) as http:  # a fresh connection: any worker may answer
            response = await http.get("/jwks")
            return {key["kid"] for key in response.json()["keys"]}

    kid = await asyncio.to_thread(rotate_signing_key, edge.provider_env)
    assert kid not in await kids(edge.a)
    assert kid not in await kids(edge.b)

    edge.a.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while kid not in await kids(edge.a):
        assert time.monotonic() < deadline, "instance a did not reload its keys"
        await asyncio.sleep(0.1)
    assert kid not in await kids(edge.b), "b reloaded by itself: the test proves nothing"

    edge.b.process.send_signal(signal.SIGHUP)  # the manager of b's two workers
    deadline = time.monotonic() + 10
    while True:
        answers = [kid in await kids(edge.b) for _ in range(12)]
        if all(answers):
            break
        assert time.monotonic() < deadline, "a worker of instance b did not reload its keys"
        await asyncio.sleep(0.1)
    assert edge.a.process.poll() is None
    assert edge.b.process.poll() is None
    assert kid in {key["kid"] for key in (await public.get("/jwks")).json()["keys"]}

    # Instance a signs with the new key; instance b verifies it.
    async with edge.direct(edge.a) as http:
        await register(http)
        tokens = await login(http)
    header = json.loads(_b64decode(tokens["access_token"].split(".")[0]))
    assert header["kid"] == kid
    async with edge.direct(edge.b) as http:
        me = await http.get(
            "/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200, me.text


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


async def test_caddy_routes_around_a_stopped_instance(
    edge: Edge, public: httpx.AsyncClient
) -> None:
    """Last in this module: it stops instance b for good."""
    edge.b.stop()
    for number in range(20):
        request_id = f"failover-{number}"
        response = await public.get("/health", headers={"X-Request-ID": request_id})
        assert response.status_code == 200, response.text
        assert edge.served_by(request_id) == ["a"]


# --- PROVIDER_TRUST_PROXY without Caddy ------------------------------------------------------


async def _login_claiming(server: Server, forwarded_for: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http)
        response = await http.post(
            "/v1/auth/sessions",
            json={"identifier": "ada@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
        )
        assert response.status_code == 200, response.text
        return response


async def test_forwarded_headers_are_ignored_without_trust_proxy(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with()
    response = await _login_claiming(server, "203.0.113.7")
    row = await AuditEvent.get(event="user.login")
    assert row.ip == "127.0.0.1"
    assert "strict-transport-security" not in response.headers


async def test_forwarded_headers_are_believed_with_trust_proxy(server_with) -> None:  # type: ignore[no-untyped-def]
    server: Server = await server_with(trust_proxy="1")
    # The client's own claim comes first; the one proxy in front appended the real address.
    response = await _login_claiming(server, "198.51.100.1, 203.0.113.7")
    row = await AuditEvent.get(event="user.login")
    assert row.ip == "203.0.113.7"
    assert response.headers["strict-transport-security"].startswith("max-age=")
