"""A local stand-in for an upstream identity provider, in a thread of the test process.

It speaks two dialects on one port:
- OpenID Connect: discovery, /authorize (approves at once, or answers the configured error),
  /token (client authentication, the code, PKCE S256), /jwks, /userinfo; the ID token is signed
  with its own RSA key, and a test can change any of its claims or sign it with another key;
- GitHub's documented OAuth endpoints: /login/oauth/authorize, /login/oauth/access_token,
  /user and /user/emails (api.github.com's shapes).

Everything it does is recorded in `Upstream.requests`, and tests change `Upstream.user`,
`Upstream.claims`, … while it runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "our-client"
CLIENT_SECRET = "our-secret-at-the-upstream"


@dataclass
class UpstreamUser:
    subject: str = "upstream-user-1"
    email: str = "ada@example.com"
    email_verified: bool = True
    name: str = "Ada Upstream"


@dataclass
class Upstream:
    url: str = ""
    user: UpstreamUser = field(default_factory=UpstreamUser)
    # Claims of the next ID tokens, over the right ones (e.g. {"nonce": "other"}).
    claims: dict[str, Any] = field(default_factory=dict)
    sign_with_other_key: bool = False
    authorize_error: str | None = None
    delay: float = 0.0
    oversized: bool = False
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "up-1"}))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "up-1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, UpstreamUser] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, path: str) -> list[dict[str, str]]:
        """The parameters of each request to `path`, in order."""
        return [params for _, seen, params in self.requests if seen == path]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            if upstream.oversized:
                data = json.dumps({"padding": "x" * 400_000}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _params(self) -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if self.command == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                params.update({k: v[0] for k, v in parse_qs(body).items()})
            with upstream.lock:
                upstream.requests.append((self.command, parts.path, params))
            return parts.path, params

        def do_GET(self) -> None:
            path, params = self._params()
            if upstream.delay:
                time.sleep(upstream.delay)
            if path == "/.well-known/openid-configuration":
                self._json(200, self._discovery())
            elif path == "/jwks":
                self._json(200, {"keys": [upstream.key.as_dict(private=False)]})
            elif path in ("/authorize", "/login/oauth/authorize"):
                self._authorize(params)
            elif path in ("/userinfo", "/user", "/user/emails"):
                self._resource(path)
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            path, params = self._params()
            if upstream.delay:
                time.sleep(upstream.delay)
            if path in ("/token", "/login/oauth/access_token"):
                self._token(params, github=path != "/token")
            else:
                self._json(404, {"error": "not_found"})

        def _discovery(self) -> dict[str, Any]:
            return {
                "issuer": upstream.url,
                "authorization_endpoint": f"{upstream.url}/authorize",
                "token_endpoint": f"{upstream.url}/token",
                "userinfo_endpoint": f"{upstream.url}/userinfo",
                "jwks_uri": f"{upstream.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }

        def _authorize(self, params: dict[str, str]) -> None:
            target = params["redirect_uri"]
            if upstream.authorize_error:
                answer = {"error": upstream.authorize_error, "state": params.get("state", "")}
                self._redirect(f"{target}?{urlencode(answer)}")
                return
            code = secrets.token_urlsafe(16)
            with upstream.lock:
                upstream.codes[code] = {**params, "user": upstream.user}
            self._redirect(f"{target}?{urlencode({'code': code, 'state': params['state']})}")

        def _client_ok(self, params: dict[str, str]) -> bool:
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                pair = base64.b64decode(basic[6:]).decode()
                return pair == f"{CLIENT_ID}:{CLIENT_SECRET}"
            return (params.get("client_id"), params.get("client_secret")) == (
                CLIENT_ID,
                CLIENT_SECRET,
            )

        def _token(self, params: dict[str, str], *, github: bool) -> None:
            with upstream.lock:
                grant = upstream.codes.pop(params.get("code", ""), None)
            if not self._client_ok(params):
                self._json(401, {"error": "invalid_client"})
                return
            verifier = params.get("code_verifier", "")
            if (
                grant is None
                or grant.get("code_challenge_method") != "S256"
                or _s256(verifier) != grant.get("code_challenge")
                or params.get("redirect_uri") != grant["redirect_uri"]
            ):
                # GitHub answers 200 with an error body; an OIDC provider 400 (RFC 6749 §5.2).
                self._json(200 if github else 400, {"error": "bad_verification_code"})
                return
            user: UpstreamUser = grant["user"]
            access = secrets.token_urlsafe(16)
            with upstream.lock:
                upstream.tokens[access] = user
            body: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
            if not github:
                body["token_type"] = "Bearer"
                body["id_token"] = self._id_token(user, grant.get("nonce", ""))
            self._json(200, body)

        def _id_token(self, user: UpstreamUser, nonce: str) -> str:
            now = int(time.time())
            claims = {
                "iss": upstream.url,
                "sub": user.subject,
                "aud": CLIENT_ID,
                "exp": now + 300,
                "iat": now,
                "nonce": nonce,
                "email": user.email,
                "email_verified": user.email_verified,
                "name": user.name,
                **upstream.claims,
            }
            claims = {k: v for k, v in claims.items() if v is not None}
            key = upstream.other_key if upstream.sign_with_other_key else upstream.key
            return jwt.encode({"alg": "RS256", "kid": "up-1"}, claims, key)

        def _resource(self, path: str) -> None:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            user = upstream.tokens.get(token) or upstream.tokens.get(
                self.headers.get("Authorization", "").removeprefix("bearer ").strip()
            )
            if user is None:
                self._json(401, {"message": "Bad credentials"})
                return
            if path == "/userinfo":
                self._json(200, {"sub": user.subject, "email": user.email, "name": user.name})
            elif path == "/user":
                self._json(200, {"id": int(user.subject), "login": "ada", "name": user.name})
            else:
                self._json(
                    200,
                    [
                        {"email": "old@example.net", "primary": False, "verified": True},
                        {"email": user.email, "primary": True, "verified": user.email_verified},
                    ],
                )

    return Handler


@contextmanager
def running_upstream() -> Iterator[Upstream]:
    """The fake provider on a free loopback port, for the length of the block."""
    upstream = Upstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream))
    server.daemon_threads = True
    upstream.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
