"""A relying party: a small web app that signs users in with the provider.

OpenID Connect authorization-code flow with PKCE (S256), driven by discovery, with a
confidential client (client_secret_basic):

    python -m clients.rp_webapp --issuer URL --client-id ID --client-secret S --port P
                                [--host 127.0.0.1] [--ca-file F]

Routes: GET / (who is signed in), GET /login[?prompt=…] (starts a login), GET /callback (the
redirect_uri, http://<host>:<port>/callback), GET /me (JSON: ID token claims, userinfo, tokens),
GET /logout (forgets the local session, then RP-initiated logout at the provider when it offers
an end_session_endpoint, returning to http://<host>:<port>/).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from html import escape
from types import SimpleNamespace
from typing import Any, TypeAlias
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
    AsyncOAuth2Client,
    OAuthError,
)
from sanic import Request, Sanic
from sanic.config import Config as SanicConfig
from sanic.response import HTTPResponse, html, json, redirect

from clients.oidc import (
    DiscoveryError,
    JWKSCache,
    TokenError,
    allowed_algorithms,
    fetch_metadata,
    half_hash,
    make_http_client,
    ssl_verify,
    verify_jws,
)

App: TypeAlias = Sanic[SanicConfig, SimpleNamespace]

logger = logging.getLogger("clients.rp_webapp")

SCOPE = "openid profile email offline_access"
SESSION_COOKIE = "rp_session"
PENDING_TTL = 600  # seconds a started login may take
ID_TOKEN_LEEWAY = 30
PROMPTS = frozenset({"none", "login", "consent", "select_account"})


@dataclass(frozen=True, slots=True)
class Config:
    issuer: str
    client_id: str
    client_secret: str
    host: str = "127.0.0.1"
    port: int = 8080
    ca_file: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"


@dataclass(slots=True)
class PendingLogin:
    nonce: str
    code_verifier: str
    created_at: float


@dataclass(slots=True)
class BrowserSession:
    pending: dict[str, PendingLogin] = field(default_factory=dict)  # by state
    result: dict[str, Any] | None = None
    id_token: str | None = None


class LoginFailed(Exception):
    """The callback cannot complete; the message is shown to the user."""


class Provider:
    """The provider as this app sees it: metadata and keys, both loaded on first use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.http = make_http_client(config.ca_file)
        self._metadata: dict[str, Any] | None = None
        self._jwks: JWKSCache | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            metadata = await fetch_metadata(self.http, self.config.issuer)
            for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
                if not isinstance(metadata.get(name), str):
                    raise DiscoveryError(f"discovery document has no {name}")
            self._jwks = JWKSCache(self.http, metadata["jwks_uri"])
            self._metadata = metadata
        return self._metadata

    async def jwks(self) -> JWKSCache:
        await self.metadata()
        assert self._jwks is not None
        return self._jwks

    def oauth_client(self) -> AsyncOAuth2Client:
        """A fresh client per login: the authlib client keeps the token it fetched."""
        return AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            scope=SCOPE,
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
            verify=ssl_verify(self.config.ca_file),
            timeout=10.0,
        )

    async def close(self) -> None:
        await self.http.aclose()


class SessionStore:
    """Browser sessions in process memory, keyed by a random cookie (one process only)."""

    def __init__(self) -> None:
        self._sessions: dict[str, BrowserSession] = {}

    def get(self, request: Request) -> BrowserSession | None:
        session_id = request.cookies.get(SESSION_COOKIE)
        return self._sessions.get(session_id) if session_id else None

    def get_or_create(self, request: Request) -> tuple[str, BrowserSession]:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id and session_id in self._sessions:
            return session_id, self._sessions[session_id]
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = BrowserSession()
        return session_id, self._sessions[session_id]

    def drop(self, request: Request) -> None:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            self._sessions.pop(session_id, None)


def _set_session_cookie(response: HTTPResponse, session_id: str) -> None:
    response.add_cookie(
        SESSION_COOKIE, session_id, path="/", httponly=True, samesite="Lax", secure=False
    )


def _page(title: str, body: str, status: int = 200) -> HTTPResponse:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )
    return html(document, status=status)


async def validate_id_token(
    provider: Provider, id_token: str, nonce: str, access_token: str | None
) -> dict[str, Any]:
    """OIDC Core §3.1.3.7: signature, iss, aud/azp, exp, iat, nonce, and at_hash if present."""
    metadata = await provider.metadata()
    algorithms = allowed_algorithms(metadata.get("id_token_signing_alg_values_supported"))
    header, claims = await verify_jws(id_token, await provider.jwks(), algorithms)
    if str(header.get("typ", "")).lower() in ("at+jwt", "application/at+jwt"):
        raise TokenError("an access token is not an ID token")
    config = provider.config
    if claims.get("iss") != config.issuer:
        raise TokenError("wrong issuer")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or config.client_id not in audiences:
        raise TokenError("not issued for this client")
    if len(audiences) > 1 and claims.get("azp") != config.client_id:
        raise TokenError("several audiences and azp is not this client")
    if "azp" in claims and claims["azp"] != config.client_id:
        raise TokenError("azp is another client")
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now - ID_TOKEN_LEEWAY:
        raise TokenError("expired or no exp")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + ID_TOKEN_LEEWAY:
        raise TokenError("iat missing or in the future")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenError("no sub")
    claimed_nonce = claims.get("nonce")
    if not isinstance(claimed_nonce, str) or not hmac.compare_digest(claimed_nonce, nonce):
        raise TokenError("nonce mismatch")
    if "at_hash" in claims:
        if not access_token:
            raise TokenError("at_hash without an access token")
        expected = half_hash(access_token, header["alg"])
        if not hmac.compare_digest(str(claims["at_hash"]), expected):
            raise TokenError("at_hash mismatch")
    return claims


async def fetch_userinfo(provider: Provider, access_token: str, subject: str) -> dict[str, Any]:
    """OIDC Core §5.3; the answer's `sub` must equal the ID token's (§5.3.2)."""
    metadata = await provider.metadata()
    try:
        response = await provider.http.get(
            metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise LoginFailed(f"userinfo request failed: {exc}") from exc
    if response.status_code != 200:
        raise LoginFailed(f"userinfo answered {response.status_code}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    if content_type == "application/jwt":
        # A signed userinfo response: same keys and checks as an ID token's signature.
        algorithms = allowed_algorithms(metadata.get("userinfo_signing_alg_values_supported"))
        _, userinfo = await verify_jws(response.text, await provider.jwks(), algorithms)
        aud = userinfo.get("aud")
        if userinfo.get("iss") != provider.config.issuer or provider.config.client_id not in (
            [aud] if isinstance(aud, str) else aud or []
        ):
            raise LoginFailed("signed userinfo from another issuer or for another client")
    else:
        try:
            userinfo = response.json()
        except ValueError as exc:
            raise LoginFailed("userinfo is not JSON") from exc
    if not isinstance(userinfo, dict) or userinfo.get("sub") != subject:
        raise LoginFailed("userinfo is about another subject")
    return userinfo


async def complete_login(
    provider: Provider, session: BrowserSession, args: dict[str, str]
) -> dict[str, Any]:
    """Steps of the callback, top to bottom; raises LoginFailed with a message to show."""
    metadata = await provider.metadata()
    # RFC 9207: the response must come from the issuer this login was sent to.
    iss = args.get("iss")
    if iss is not None and iss != provider.config.issuer:
        raise LoginFailed("the response names another issuer (iss)")
    if iss is None and metadata.get("authorization_response_iss_parameter_supported"):
        raise LoginFailed("the provider promises iss in responses but sent none")

    state = args.get("state", "")
    pending = session.pending.pop(state, None) if state else None
    if "error" in args:
        description = args.get("error_description", "")
        raise LoginFailed(f"{args['error']}: {description}" if description else args["error"])
    if pending is None:
        raise LoginFailed("unknown or reused state")
    if time.time() - pending.created_at > PENDING_TTL:
        raise LoginFailed("the login took too long; start again")
    code = args.get("code")
    if not code:
        raise LoginFailed("no authorization code")

    async with provider.oauth_client() as client:
        try:
            token = await client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
            )
        except OAuthError as exc:
            raise LoginFailed(f"token request refused: {exc.error}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise LoginFailed(f"token request failed: {exc}") from exc
    access_token = token.get("access_token")
    id_token = token.get("id_token")
    if not isinstance(access_token, str) or not isinstance(id_token, str):
        raise LoginFailed("the token response lacks access_token or id_token")
    if str(token.get("token_type", "")).lower() != "bearer":
        raise LoginFailed("unexpected token_type")
    try:
        claims = await validate_id_token(provider, id_token, pending.nonce, access_token)
    except TokenError as exc:
        logger.warning("ID token refused: %s", exc)
        raise LoginFailed(f"invalid ID token ({exc})") from exc

    try:
        userinfo = await fetch_userinfo(provider, access_token, claims["sub"])
    except TokenError as exc:
        raise LoginFailed(f"invalid signed userinfo ({exc})") from exc
    session.id_token = id_token
    return {
        "id_token_claims": claims,
        "userinfo": userinfo,
        "tokens": {
            "access_token": access_token,
            "refresh_token": token.get("refresh_token"),
            "scope": token.get("scope"),
        },
    }


def create_app(config: Config, name: str = "rp_webapp") -> App:
    app: App = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "html"
    provider = Provider(config)
    sessions = SessionStore()
    app.ctx.provider = provider
    app.ctx.sessions = sessions

    @app.after_server_stop
    async def close_provider(app: App) -> None:
        await provider.close()

    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        session = sessions.get(request)
        if session is None or session.result is None:
            return _page("Example app", '<p>Not signed in. <a href="/login">Sign in</a></p>')
        claims = session.result["id_token_claims"]
        userinfo = session.result["userinfo"]
        who = userinfo.get("email") or claims.get("email") or claims["sub"]
        return _page(
            "Example app",
            f'<p id="who">signed in as {escape(str(who))}</p>'
            '<p><a href="/me">Token details</a> · <a href="/logout">Sign out</a></p>',
        )

    @app.get("/login")
    async def login(request: Request) -> HTTPResponse:
        try:
            metadata = await provider.metadata()
        except DiscoveryError as exc:
            logger.warning("discovery failed: %s", exc)
            return _page("Provider unavailable", "<p>The sign-in service is unreachable.</p>", 502)
        session_id, session = sessions.get_or_create(request)
        now = time.time()
        for stale in [s for s, p in session.pending.items() if now - p.created_at > PENDING_TTL]:
            del session.pending[stale]
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        session.pending[state] = PendingLogin(nonce=nonce, code_verifier=verifier, created_at=now)
        extra: dict[str, str] = {"nonce": nonce}
        prompt = request.args.get("prompt")
        if prompt:
            if not set(prompt.split()) <= PROMPTS:
                return _page("Bad request", "<p>Unknown prompt value.</p>", 400)
            extra["prompt"] = prompt
        async with provider.oauth_client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier, **extra
            )
        response = redirect(url)
        _set_session_cookie(response, session_id)
        return response

    @app.get("/callback")
    async def callback(request: Request) -> HTTPResponse:
        session = sessions.get(request)
        args = {name: values[0] for name, values in request.args.items()}
        if session is None:
            if "error" in args:
                return _page("Sign-in failed", f"<p>{escape(args['error'])}</p>", 400)
            return _page("Sign-in failed", "<p>No login in progress.</p>", 400)
        try:
            session.result = await complete_login(provider, session, args)
        except LoginFailed as exc:
            return _page("Sign-in failed", f'<p id="error">{escape(str(exc))}</p>', 400)
        except DiscoveryError as exc:
            logger.warning("discovery failed: %s", exc)
            return _page("Provider unavailable", "<p>The sign-in service is unreachable.</p>", 502)
        return redirect("/")

    @app.get("/me")
    async def me(request: Request) -> HTTPResponse:
        session = sessions.get(request)
        if session is None or session.result is None:
            return json({"error": "not_signed_in"}, status=401)
        return json(session.result)

    @app.get("/logout")
    async def logout(request: Request) -> HTTPResponse:
        session = sessions.get(request)
        id_token = session.id_token if session else None
        sessions.drop(request)
        response = redirect("/")
        try:
            end_session = (await provider.metadata()).get("end_session_endpoint")
        except DiscoveryError:
            end_session = None
        if isinstance(end_session, str) and id_token:
            query = urlencode(
                {
                    "id_token_hint": id_token,
                    "client_id": config.client_id,
                    "post_logout_redirect_uri": config.base_url + "/",
                }
            )
            separator = "&" if "?" in end_session else "?"
            response = redirect(f"{end_session}{separator}{query}")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", required=True, help="the provider's issuer URL")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ca-file", help="extra CA certificate (PEM) to trust for the issuer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    config = Config(
        issuer=args.issuer,
        client_id=args.client_id,
        client_secret=args.client_secret,
        host=args.host,
        port=args.port,
        ca_file=args.ca_file,
    )
    app = create_app(config)
    app.run(host=args.host, port=args.port, single_process=True, motd=False, access_log=False)


if __name__ == "__main__":
    main()
