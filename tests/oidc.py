"""Helpers for OpenID Connect tests: register clients, walk the hosted pages without a browser."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from provider.config import DEV_SECRET_KEY
from provider.oauth.clients import ClientSpec, create_client

REDIRECT_URI = "http://127.0.0.1:9/callback"
LOGOUT_URI = "http://127.0.0.1:9/signed-out"
ID_TOKEN_ALGS = ["RS256", "ES256", "Ed25519"]
_CSRF = re.compile(r'name="csrf"\s+value="([^"]+)"')
_FLOW = re.compile(r'name="flow"\s+value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class RegisteredClient:
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT_URI

    def basic(self) -> httpx.BasicAuth:
        assert self.secret is not None
        return httpx.BasicAuth(self.client_id, self.secret)

    def post_credentials(self) -> dict[str, str]:
        assert self.secret is not None
        return {"client_id": self.client_id, "client_secret": self.secret}


async def register_client(**overrides: Any) -> RegisteredClient:
    """A client registered straight in the database; `issuer` is only for the audience rule."""
    issuer = overrides.pop("issuer", "http://127.0.0.1")
    spec = {
        "name": "Example App",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [LOGOUT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "scopes": ["openid", "profile", "email", "offline_access", "phone", "address"],
        **overrides,
    }
    client, secret = await create_client(ClientSpec(**spec), DEV_SECRET_KEY.encode(), issuer)
    redirect_uris = spec["redirect_uris"]
    return RegisteredClient(client.id, secret, redirect_uris[0] if redirect_uris else "")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, html[:500]
    return match.group(1)


def flow_of(html: str) -> str:
    match = _FLOW.search(html)
    assert match, html[:500]
    return match.group(1)


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form, HTML entities decoded."""
    return {name: unescape(value) for name, value in _HIDDEN.findall(html)}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def is_login_page(response: httpx.Response) -> bool:
    return response.status_code < 500 and 'action="/login"' in response.text


def is_consent_page(response: httpx.Response) -> bool:
    return response.status_code == 200 and 'action="/consent"' in response.text


def redirect_query(response: httpx.Response, client: RegisteredClient) -> dict[str, str]:
    """The query of a redirect back to the client (302 to its exact redirect URI)."""
    assert response.status_code == 302, (response.status_code, response.text[:800])
    location = response.headers["location"]
    assert location.split("?")[0] == client.redirect_uri, location
    return query_of(location)


@dataclass
class Browser:
    """An httpx client with a cookie jar that follows our redirects but not the client's."""

    http: httpx.AsyncClient
    pages: list[str] = field(default_factory=list)

    @classmethod
    @asynccontextmanager
    async def open(cls, base_url: str) -> AsyncIterator[Browser]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield cls(http)

    async def follow(self, response: httpx.Response) -> httpx.Response:
        while response.status_code in (302, 303) and response.headers["location"].startswith("/"):
            self.pages.append(response.headers["location"])
            response = await self.http.get(response.headers["location"])
        return response

    async def authorize(self, params: dict[str, str], method: str = "GET") -> httpx.Response:
        if method == "POST":
            response = await self.http.post("/authorize", data=params)
        else:
            response = await self.http.get("/authorize?" + urlencode(params))
        return await self.follow(response)

    async def submit_login(
        self, page: httpx.Response, identifier: str, password: str
    ) -> httpx.Response:
        response = await self.http.post(
            "/login",
            data={
                "flow": flow_of(page.text),
                "csrf": csrf_of(page.text),
                "identifier": identifier,
                "password": password,
            },
        )
        return await self.follow(response)

    async def submit_consent(self, page: httpx.Response, decision: str = "allow") -> httpx.Response:
        response = await self.http.post(
            "/consent",
            data={"flow": flow_of(page.text), "csrf": csrf_of(page.text), "decision": decision},
        )
        return await self.follow(response)


def auth_params(client: RegisteredClient, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        **extra,
    }


async def sign_in_and_get_code(
    browser: Browser, client: RegisteredClient, identifier: str, password: str, **extra: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Authorize → login → consent (when asked) → the redirect's query, and the request params."""
    params = auth_params(client, **extra)
    response = await browser.authorize(params)
    if is_login_page(response):
        response = await browser.submit_login(response, identifier, password)
    if is_consent_page(response):
        response = await browser.submit_consent(response)
    assert response.status_code == 302, (response.status_code, response.text[:800])
    return query_of(response.headers["location"]), params


async def redeem_code(
    http: httpx.AsyncClient,
    client: RegisteredClient,
    code: str,
    *,
    verifier: str | None = None,
    redirect_uri: str | None = None,
    auth: str = "basic",
) -> httpx.Response:
    """POST /token with grant_type=authorization_code, authenticated as `auth` says."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri or client.redirect_uri,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return await token_request(http, client, data, auth=auth)


async def token_request(
    http: httpx.AsyncClient, client: RegisteredClient, data: dict[str, str], *, auth: str = "basic"
) -> httpx.Response:
    if auth == "basic":
        return await http.post("/token", data=data, auth=client.basic())
    if auth == "post":
        return await http.post("/token", data={**data, **client.post_credentials()})
    assert auth == "none"
    return await http.post("/token", data={**data, "client_id": client.client_id})


async def refresh(
    http: httpx.AsyncClient, client: RegisteredClient, refresh_token: str, **extra: str
) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return await token_request(http, client, data)


async def sign_in_for_tokens(
    browser: Browser,
    client: RegisteredClient,
    identifier: str,
    password: str,
    *,
    auth: str = "basic",
    **extra: str,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The whole code flow with PKCE: the token response body and the authorization params."""
    verifier, challenge = pkce_pair()
    result, params = await sign_in_and_get_code(
        browser,
        client,
        identifier,
        password,
        code_challenge=challenge,
        code_challenge_method="S256",
        **extra,
    )
    assert result.get("state") == params["state"], result
    assert "code" in result, result
    response = await redeem_code(browser.http, client, result["code"], verifier=verifier, auth=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, params


async def key_set(http: httpx.AsyncClient) -> KeySet:
    response = await http.get("/jwks")
    assert response.status_code == 200, response.text
    return KeySet.import_key_set(response.json())


def decode_jwt(token: str, keys: KeySet) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT whose signature verifies against `keys`."""
    decoded = jwt.decode(token, keys, algorithms=ID_TOKEN_ALGS)
    return dict(decoded.header), dict(decoded.claims)


def left_half_hash(value: str) -> str:
    """OIDC Core §3.1.3.6 at_hash for SHA-256 algorithms (RS256, ES256)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def now() -> int:
    return int(time.time())


async def sign_out(browser: Browser, decision: str = "logout", **params: str) -> httpx.Response:
    """RP-initiated logout: the confirmation page, then its form submitted with `decision`."""
    page = await browser.http.get("/logout?" + urlencode(params))
    assert page.status_code == 200, page.text[:500]
    assert 'action="/logout"' in page.text, page.text[:500]
    form = {**hidden_fields(page.text), "decision": decision}
    return await browser.http.post("/logout", data=form)
