"""The OpenAPI document at /docs/openapi.json: valid, complete, and true to the running server.

Schemathesis generates requests from the document (a bounded number per operation) against a
real server and checks that nothing answers 5xx, that every status and media type is documented,
and that bodies match their schemas. Bearer tokens come from the public login endpoint only.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.admin_support import admin
from tests.support import Server

EXAMPLES_PER_OPERATION = "25"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
# These can end the session whose token the run uses; they get a session of their own.
SESSION_ENDERS = [
    "post_api_logout_logout",
    "post_api_logout_logout_all",
    "post_api_admin_user_actions_revoke_sessions",
    "delete_api_devices_delete_session",
]
OAUTH_PATHS = {
    "/authorize": {"get", "post"},
    "/token": {"post"},
    "/introspect": {"post"},
    "/revoke": {"post"},
    "/userinfo": {"get", "post"},
    "/logout": {"get", "post"},
    "/.well-known/openid-configuration": {"get"},
    "/.well-known/oauth-authorization-server": {"get"},
    "/jwks": {"get"},
    "/oauth/clients": {"post"},
    "/oauth/clients/{client_id}": {"get", "put", "delete"},
}


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/docs/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _null_bodies(node: Any, where: str = "") -> list[str]:
    """Places where a request or response body is described as nothing but `null`."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and value == {"type": "null"}:
                found.append(where)
            found.extend(_null_bodies(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_null_bodies(value, f"{where}/{index}"))
    return found


async def test_the_document_validates_and_is_complete(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    validate(document)  # openapi-spec-validator: raises on any error
    operations = _operations(document)
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert _null_bodies(document) == []

    for path, methods in OAUTH_PATHS.items():
        assert set(document["paths"][path]) == methods, path
    token = document["paths"]["/token"]["post"]
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"grant_type", "code", "code_verifier", "refresh_token", "client_assertion"} <= set(
        form["properties"]
    )
    assert {"200", "400", "401", "503"} <= set(token["responses"])
    authorize = {p["name"] for p in document["paths"]["/authorize"]["get"]["parameters"]}
    assert {"response_type", "client_id", "redirect_uri", "code_challenge", "state"} <= authorize
    assert {"id_token_hint", "post_logout_redirect_uri"} <= {
        p["name"] for p in document["paths"]["/logout"]["get"]["parameters"]
    }

    for path, method, operation in operations:
        statuses = set(operation["responses"])
        assert any(status.startswith("2") for status in statuses), (method, path)
        if path.startswith("/v1/"):
            # Every JSON API operation documents its errors in the API envelope.
            assert {"400", "503"} <= statuses, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
    # Hosted pages are not API operations.
    assert not any(path.startswith(("/login", "/account", "/admin")) for path in document["paths"])

    # What each JSON API handler declares of itself (provider.http.api_doc) reaches the document.
    api = [(path, operation) for path, _, operation in operations if path.startswith("/v1/")]
    assert all(operation.get("summary") and operation.get("tags") for _, operation in api), [
        path for path, operation in api if not operation.get("summary")
    ]
    register = document["paths"]["/v1/auth/register"]["post"]
    schema = register["requestBody"]["content"]["application/json"]["schema"]
    assert {"email", "password"} <= set(schema["properties"])
    assert "security" not in register
    me = document["paths"]["/v1/auth/me"]["get"]
    assert me["security"] == [{"bearer": []}]
    assert "409" in document["paths"]["/v1/auth/me"]["patch"]["responses"]


async def test_the_docs_page_loads_the_document(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/docs/openapi.json" in page.text


def _schemathesis(
    server: Server, workdir: Path, headers: dict[str, str], *selection: str
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{server.url}/docs/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES_PER_OPERATION,
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--seed",
        "20261201",
        "--request-timeout",
        "10",
        "--max-failures",
        "50",
        *(arg for name, value in headers.items() for arg in ("--header", f"{name}: {value}")),
        *selection,
    ]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize(
    "selection",
    [
        pytest.param(
            [arg for name in SESSION_ENDERS for arg in ("--exclude-operation-id", name)],
            id="all-but-logout",
        ),
        pytest.param(
            [arg for name in SESSION_ENDERS for arg in ("--include-operation-id", name)],
            id="logout",
        ),
    ],
)
async def test_schemathesis_finds_no_5xx_and_nothing_undocumented(
    server_with: Any, tmp_path: Path, selection: list[str]
) -> None:
    # Generated wrong passwords and codes must not lock the account the run signs in with.
    server: Server = await server_with(lockout_threshold="1000000")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        headers = await admin(client)
    result = await asyncio.to_thread(_schemathesis, server, tmp_path, headers, *selection)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "Tested: 0" not in output
