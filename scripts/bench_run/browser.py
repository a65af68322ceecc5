"""One authorization-code sign-in, as a browser and a relying party do it, over httpx.

GET /authorize → (303) the hosted login page → POST /login (Argon2id) → (303) /authorize/resume →
consent already given → 302 to the client with a code → POST /token with the PKCE verifier.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from scripts.bench_run.seed import USER_SCOPES, ClientCredentials

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_ALERT = re.compile(r'role="alert">\s*(.*?)\s*</', re.DOTALL)


class FlowError(Exception):
    """A step answered something a successful sign-in never answers."""

    def __init__(self, step: str, response: httpx.Response) -> None:
        alert = _ALERT.search(response.text)
        said = unescape(alert.group(1)) if alert else response.text[:300]
        super().__init__(f"{step}: HTTP {response.status_code} {said!r}")
        self.step = step
        self.status = response.status_code

    @property
    def kind(self) -> str:
        return f"{self.step}:{self.status}"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _follow_local(http: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    """Follow the provider's own redirects (relative Location), not the one to the client."""
    while response.status_code in (302, 303) and response.headers["location"].startswith("/"):
        response = await http.get(response.headers["location"])
    return response


async def sign_in(
    http: httpx.AsyncClient, client: ClientCredentials, email: str, password: str
) -> dict[str, Any]:
    """The whole flow in a fresh cookie jar; returns the token response."""
    http.cookies.clear()
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": " ".join(USER_SCOPES),
        "state": state,
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = await _follow_local(http, await http.get("/authorize?" + urlencode(query)))
    if page.status_code != 200 or 'action="/login"' not in page.text:
        raise FlowError("authorize", page)
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(page.text)}
    form = {
        "flow": fields.get("flow", ""),
        "csrf": fields.get("csrf", ""),
        "identifier": email,
        "password": password,
    }
    done = await _follow_local(http, await http.post("/login", data=form))
    location = done.headers.get("location", "")
    if done.status_code != 302 or not location.startswith(client.redirect_uri):
        raise FlowError("login", done)
    result = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if result.get("state") != state or "code" not in result:
        raise FlowError("redirect", done)
    return await exchange_code(http, client, result["code"], verifier)


async def exchange_code(
    http: httpx.AsyncClient, client: ClientCredentials, code: str, verifier: str
) -> dict[str, Any]:
    """POST /token with the code and the PKCE verifier (client_secret_basic)."""
    token = await http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
        },
        auth=httpx.BasicAuth(client.client_id, client.secret),
    )
    if token.status_code != 200:
        raise FlowError("token", token)
    body: dict[str, Any] = token.json()
    return body
