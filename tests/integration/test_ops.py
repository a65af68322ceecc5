"""Operations: health, readiness, metrics, API docs, request ids, security headers, CORS, logs."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import httpx
import pytest

from provider.storage.models import Session
from provider.storage.unit_of_work import utcnow
from tests.support import PASSWORD, Server, assert_error, bearer, login, register

METRICS = (
    "provider_http_requests_total",
    "provider_http_request_duration_seconds",
    "provider_auth_operations_total",
    "provider_active_sessions",
    "provider_rate_limit_hits_total",
    "provider_cache_fallbacks_total",
)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the Prometheus exposition text, if present."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', metric))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


# --- health and readiness ------------------------------------------------------------------------


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_the_database_and_the_cache(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


async def test_not_ready_when_the_cache_is_unreachable(server_with) -> None:
    server: Server = await server_with(redis_url="redis://127.0.0.1:1/0")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get("/ready")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "cache": "unavailable"},
        }
        # Still alive, and logins still work from the in-memory fallback.
        assert (await http.get("/health")).status_code == 200
        await register(http)
        await login(http)
        metrics = (await http.get("/metrics")).text
        assert (sample(metrics, "provider_cache_fallbacks_total") or 0) > 0


# --- metrics -------------------------------------------------------------------------------------


async def test_metrics_expose_the_documented_series(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await login(client)
    await client.post("/v1/auth/sessions", json={"identifier": "x@example.com", "password": "x"})
    doomed = await login(client)
    await client.delete(f"/v1/auth/sessions/{doomed['session']['id']}", headers=bearer(tokens))
    abandoned = await login(client)  # ended by the idle timeout (7 days by default)
    await Session.filter(id=abandoned["session"]["id"]).update(
        last_active_at=utcnow() - timedelta(days=8)
    )
    stray = f"/no-such-page-{uuid.uuid4().hex}"
    assert_error(await client.get(stray), 404, "not_found")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in METRICS:
        assert re.search(rf"^# TYPE {name} (counter|histogram|gauge)$", text, re.M), name
    logins = sample(
        text, "provider_http_requests_total", route="/v1/auth/sessions", method="POST", status="200"
    )
    assert logins is not None
    assert logins >= 2
    assert sample(text, "provider_auth_operations_total", operation="login", outcome="success") >= 2
    assert (
        sample(
            text, "provider_auth_operations_total", operation="login", outcome="invalid_credentials"
        )
        >= 1
    )
    assert sample(
        text, "provider_http_request_duration_seconds_count", route="/health"
    ) is None or (True)
    assert (
        sample(text, "provider_http_request_duration_seconds_count", route="/v1/auth/sessions") >= 2
    )
    assert sample(text, "provider_active_sessions") == 1  # neither revoked nor idle nor expired
    # Routes are labelled by pattern: no ids or stray paths become label values.
    assert doomed["session"]["id"] not in text
    assert stray not in text
    assert sample(text, "provider_http_requests_total", route="/v1/auth/sessions/<session_id:str>")


async def test_metrics_need_the_token_when_one_is_set(server_with) -> None:
    server: Server = await server_with(metrics_token="metrics-secret-token")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        assert_error(await http.get("/metrics"), 401)
        for wrong in ("Bearer nope", "metrics-secret-token", "Basic bWV0cmljcw==", "Bearer"):
            assert_error(await http.get("/metrics", headers={"Authorization": wrong}), 401)
        response = await http.get(
            "/metrics", headers={"Authorization": "Bearer metrics-secret-token"}
        )
        assert response.status_code == 200
        assert "provider_http_requests_total" in response.text
        assert "metrics-secret-token" not in server.log()


# --- API documentation ---------------------------------------------------------------------------


async def test_openapi_document_lists_the_account_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    for path in (
        "/v1/auth/register",
        "/v1/auth/sessions",
        "/v1/auth/sessions/{session_id}",
        "/v1/auth/tokens/refresh",
        "/v1/auth/me",
        "/v1/auth/logout",
        "/v1/auth/logout-all",
    ):
        assert path in paths, sorted(paths)
    login_schema = json.dumps(document["paths"]["/v1/auth/sessions"]["post"])
    assert "identifier" in login_schema
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    # The page may load its own assets (tests/e2e/test_docs_page.py), and nothing inline but
    # its own blocks, pinned by hash.
    policy = docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "'sha256-" in policy


# --- request ids and headers ---------------------------------------------------------------------


async def test_a_valid_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "trace-abc.123:x_y-z"})
    assert response.headers["x-request-id"] == "trace-abc.123:x_y-z"
    error = assert_error(await client.get("/v1/auth/me", headers={"X-Request-ID": "trace-2"}), 401)
    assert error["request_id"] == "trace-2"


@pytest.mark.parametrize("sent", [None, "", "a" * 129, "bad id", "<script>", "a/b", "a\tb"])
async def test_a_request_id_is_generated_otherwise(
    client: httpx.AsyncClient, sent: str | None
) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    first = await client.get("/health", headers=headers)
    second = await client.get("/health", headers=headers)
    generated = first.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert generated != second.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/v1/auth/me"),
        ("POST", "/v1/auth/sessions"),
        ("GET", "/nowhere"),
        ("GET", "/metrics"),
        ("GET", "/jwks"),
    ],
)
async def test_security_headers_on_every_response(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers  # plain http: no HSTS


async def test_unknown_paths_and_methods_use_the_error_envelope(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/auth/nothing-here"), 404, "not_found")
    assert_error(await client.get("/v1/auth/register"), 405, "method_not_allowed")
    assert_error(await client.put("/v1/auth/me"), 405, "method_not_allowed")


# --- CORS ----------------------------------------------------------------------------------------


async def test_cors_for_an_allowed_origin(server_with) -> None:
    server: Server = await server_with(cors_origins="https://app.example")
    origin = {"Origin": "https://app.example"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get("/health", headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        assert "Origin" in response.headers["vary"]
        error = await http.get("/v1/auth/me", headers=origin)
        assert error.status_code == 401
        assert error.headers["access-control-allow-origin"] == "https://app.example"
        preflight = await http.options(
            "/v1/auth/sessions",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed_headers = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers
        assert "content-type" in allowed_headers
        await register(http)
        tokens = await http.post(
            "/v1/auth/sessions",
            json={"identifier": "ada@example.com", "password": PASSWORD},
            headers=origin,
        )
        assert tokens.status_code == 200
        assert tokens.headers["access-control-allow-origin"] == "https://app.example"


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://app.example", "https://app.example.evil", "null"]
)
async def test_cors_for_another_origin(server_with, origin: str) -> None:
    server: Server = await server_with(cors_origins="https://app.example")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get("/health", headers={"Origin": origin})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        preflight = await http.options(
            "/v1/auth/sessions",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert_error(preflight, 403, "origin_not_allowed")
        assert "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-methods" not in preflight.headers


# --- logs ----------------------------------------------------------------------------------------


async def test_log_lines_are_json_without_secrets(
    server: Server, client: httpx.AsyncClient
) -> None:
    password = f"Unique-{uuid.uuid4().hex}"
    wrong = f"Wrong-{uuid.uuid4().hex}"
    await register(client, password=password)
    tokens = await login(client, password=password)
    await client.post(
        "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": wrong}
    )
    rotated = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await client.post("/v1/auth/tokens/refresh", json={"refresh_token": tokens["refresh_token"]})
    await client.get("/v1/auth/me", headers=bearer(tokens))
    await client.get(f"/v1/auth/me?access_token={tokens['access_token']}")
    await client.post(
        "/v1/auth/sessions",
        content=f'{{"identifier": "ada@example.com", "password": "{password}", "x": 1}}',
        headers={"Content-Type": "application/json"},
    )
    await client.get("/health", headers={"X-Request-ID": "log-check-done"})
    log = server.log()
    assert "log-check-done" in log
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines
    for line in lines:
        entry = json.loads(line)  # every line, start-up messages included
        assert {"time", "level", "logger", "message"} <= set(entry), line
    secrets = [
        password,
        wrong,
        tokens["access_token"],
        tokens["refresh_token"],
        rotated.json()["refresh_token"],
        rotated.json()["access_token"],
    ]
    for secret in secrets:
        assert secret not in log
        assert secret[:24] not in log
    access = [json.loads(line) for line in lines if '"provider.access"' in line]
    assert any(entry.get("request_id") == "log-check-done" for entry in access)
