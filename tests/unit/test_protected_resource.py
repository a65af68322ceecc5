"""The RFC 9728 helper of clients/: the metadata document, where it is served, the bearer
challenge with its `resource_metadata` hint, and the example API answering with them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from clients.protected_resource import ProtectedResource, bearer_token, has_scopes
from clients.resource_server import AccessTokenVerifier, InvalidToken, create_app, describe

API = ProtectedResource(
    resource="https://api.example.com/mcp",
    authorization_servers=["https://id.example.com"],
    scopes_supported=["orders.read"],
    resource_name="Orders",
)


def test_the_metadata_document() -> None:
    assert API.metadata() == {
        "resource": "https://api.example.com/mcp",
        "authorization_servers": ["https://id.example.com"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["orders.read"],
        "resource_name": "Orders",
    }
    bare = ProtectedResource("http://127.0.0.1:9100", ["http://127.0.0.1:8000"])
    assert bare.metadata() == {
        "resource": "http://127.0.0.1:9100",
        "authorization_servers": ["http://127.0.0.1:8000"],
        "bearer_methods_supported": ["header"],
    }


def test_the_well_known_path_goes_before_the_resources_path() -> None:
    # RFC 9728 §3.1.
    assert API.metadata_url == "https://api.example.com/.well-known/oauth-protected-resource/mcp"
    assert API.metadata_paths() == [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ]
    root = ProtectedResource("https://api.example.com/", ["https://id.example.com"])
    assert root.metadata_url == "https://api.example.com/.well-known/oauth-protected-resource"
    assert root.metadata_paths() == ["/.well-known/oauth-protected-resource"]


@pytest.mark.parametrize("resource", ["urn:example:api", "https://api.example.com/#x", "/api"])
def test_a_resource_must_be_a_url_without_fragment(resource: str) -> None:
    with pytest.raises(ValueError, match="without a fragment"):
        ProtectedResource(resource, ["https://id.example.com"])


def test_the_challenges() -> None:
    hint = 'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"'
    missing = API.challenge()
    assert (missing.status, missing.body) == (401, {"error": "missing_token"})
    assert missing.headers == {"WWW-Authenticate": f"Bearer {hint}"}
    invalid = API.challenge("invalid_token", description='a "bad" one')
    assert invalid.status == 401
    assert invalid.headers["WWW-Authenticate"] == (
        f'Bearer {hint}, error="invalid_token", error_description="a \\"bad\\" one"'
    )
    scope = API.challenge("insufficient_scope", scope="orders.read")
    assert scope.status == 403
    assert scope.headers["WWW-Authenticate"].endswith(
        'error="insufficient_scope", scope="orders.read"'
    )


def test_bearer_tokens_and_scopes() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    for value in (None, "", "Basic abc", "Bearer", "Bearer   "):
        assert bearer_token(value) is None
    assert has_scopes({"scope": "a b"}, ["b", "a"])
    assert not has_scopes({"scope": "a"}, ["a", "b"])
    assert not has_scopes({}, ["a"])


class _Verifier(AccessTokenVerifier):
    """Accepts the token "good" only; no discovery, no network."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:8000", "http://127.0.0.1:9100/api")

    async def verify(self, token: str) -> dict[str, Any]:
        if token != "good":
            raise InvalidToken("for another resource")
        return {"sub": "u1", "scope": "orders.read", "client_id": "rp"}


async def test_the_example_api_serves_its_metadata_and_the_hint() -> None:
    verifier = _Verifier()
    app = create_app(
        verifier, "protected_resource_test", resource=describe(verifier, ["orders.read"])
    )
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with (
        _lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9100") as http,
    ):
        for path in (
            "/.well-known/oauth-protected-resource/api",
            "/.well-known/oauth-protected-resource",
        ):
            document = await http.get(path)
            assert document.status_code == 200
            assert document.json() == {
                "resource": "http://127.0.0.1:9100/api",
                "authorization_servers": ["http://127.0.0.1:8000"],
                "bearer_methods_supported": ["header"],
                "scopes_supported": ["orders.read"],
            }
        hint = 'resource_metadata="http://127.0.0.1:9100/.well-known/oauth-protected-resource/api"'
        missing = await http.get("/api/hello")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == f"Bearer {hint}"
        other = await http.get("/api/hello", headers={"Authorization": "Bearer other"})
        assert other.status_code == 401
        assert other.headers["www-authenticate"] == f'Bearer {hint}, error="invalid_token"'
        good = await http.get("/api/hello", headers={"Authorization": "Bearer good"})
        assert good.json() == {"sub": "u1", "scope": "orders.read", "client_id": "rp"}


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """Run the app's ASGI lifespan around the requests httpx sends it in process."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task
