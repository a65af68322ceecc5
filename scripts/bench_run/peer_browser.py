"""One authorization-code sign-in at the peer (scripts/bench_peer/server.mjs), over httpx.

GET /authorize (prompt=consent, as the peer drops offline_access without it) → its login
interaction → POST the login form (Argon2id) → resume → its consent interaction → POST the consent
form → resume → redirect to the client with a code → POST /token with the PKCE verifier.
"""

from __future__ import annotations

import re
import secrets
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from scripts.bench_run.browser import FlowError, exchange_code, pkce
from scripts.bench_run.seed import USER_SCOPES, ClientCredentials

_FORM = re.compile(r'<form method="post" action="([^"]+)">')
# The interaction steps in the order the peer asks for them, and where each form posts.
STEPS = (("login", "/login"), ("consent", "/confirm"))


async def _follow(
    http: httpx.AsyncClient, response: httpx.Response, client: ClientCredentials
) -> httpx.Response:
    """Follow the peer's redirects (it sends absolute ones), not the one to the client."""
    while response.status_code in (302, 303):
        location = response.headers["location"]
        if location.startswith(client.redirect_uri):
            break
        response = await http.get(location)
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
        "prompt": "consent",
        "state": state,
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = await http.get("/authorize?" + urlencode(query))
    for step, action_suffix in STEPS:
        page = await _follow(http, response, client)
        form = _FORM.search(page.text) if page.status_code == 200 else None
        if form is None or not form.group(1).endswith(action_suffix):
            raise FlowError(step, page)
        fields = {"email": email, "password": password} if step == "login" else {}
        response = await http.post(unescape(form.group(1)), data=fields)
    done = await _follow(http, response, client)
    location = done.headers.get("location", "")
    if done.status_code not in (302, 303) or not location.startswith(client.redirect_uri):
        raise FlowError("consent", done)
    result = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if result.get("state") != state or "code" not in result:
        raise FlowError("redirect", done)
    return await exchange_code(http, client, result["code"], verifier)
