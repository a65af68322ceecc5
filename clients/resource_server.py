"""An API that accepts the provider's RFC 9068 access tokens, verified offline.

The only configuration is the issuer and this API's audience (its RFC 8707 resource
identifier); everything else (the JWKS, the accepted algorithms) comes from discovery. Nothing is
sent to the provider per request.

    python -m clients.resource_server --issuer URL --audience AUD --port P [--scope S …]
        [--ca-file F]

GET /api/hello with `Authorization: Bearer <access token>` answers
{"sub", "scope", "client_id"}; a missing token answers 401 with `WWW-Authenticate: Bearer`,
a bad one 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3). When the
audience is an http(s) URL, the API also serves its RFC 9728 metadata at
`/.well-known/oauth-protected-resource` and every 401 carries `resource_metadata="…"`
(`clients.protected_resource`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeAlias

import httpx
from sanic import Request, Sanic
from sanic.config import Config as SanicConfig
from sanic.response import HTTPResponse, json

from clients.oidc import (
    DiscoveryError,
    JWKSCache,
    TokenError,
    allowed_algorithms,
    fetch_metadata,
    make_http_client,
    verify_jws,
)
from clients.protected_resource import Challenge, ProtectedResource
from clients.protected_resource import bearer_token as bearer_token_of

App: TypeAlias = Sanic[SanicConfig, SimpleNamespace]

logger = logging.getLogger("clients.resource_server")

ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")  # RFC 9068 §4
REQUIRED_CLAIMS = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")  # RFC 9068 §2.2


class InvalidToken(Exception):
    """The token must be refused with `invalid_token`; the message is for logs only."""


class VerifierUnavailable(Exception):
    """The provider's metadata or keys cannot be loaded; not the token's fault."""


class AccessTokenVerifier:
    """Verifies RFC 9068 JWT access tokens against the issuer's published keys."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        http: httpx.AsyncClient | None = None,
        *,
        ca_file: str | None = None,
        leeway: int = 30,
        jwks_min_refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self._owns_http = http is None
        self._http = http if http is not None else make_http_client(ca_file)
        self._jwks_min_refresh_interval = jwks_min_refresh_interval
        self._clock = clock
        self._jwks: JWKSCache | None = None
        self._algorithms: frozenset[str] = frozenset()
        self._setup_lock = asyncio.Lock()

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _ensure_discovered(self) -> JWKSCache:
        if self._jwks is not None:
            return self._jwks
        async with self._setup_lock:
            if self._jwks is None:
                try:
                    metadata = await fetch_metadata(self._http, self.issuer)
                except DiscoveryError as exc:
                    raise VerifierUnavailable(str(exc)) from exc
                # No standard metadata lists access-token algorithms; prefer a provider's
                # own `access_token_signing_alg_values_supported` if it has one, else the ID
                # token list (the provider signs both with the same keys).
                advertised = metadata.get(
                    "access_token_signing_alg_values_supported",
                    metadata.get("id_token_signing_alg_values_supported"),
                )
                self._algorithms = allowed_algorithms(advertised)
                self._jwks = JWKSCache(
                    self._http, metadata["jwks_uri"], self._jwks_min_refresh_interval
                )
            return self._jwks

    async def verify(self, token: str) -> dict[str, Any]:
        """Return the token's claims, or raise InvalidToken (or VerifierUnavailable)."""
        jwks = await self._ensure_discovered()
        try:
            header, claims = await verify_jws(token, jwks, self._algorithms)
        except DiscoveryError as exc:
            raise VerifierUnavailable(str(exc)) from exc
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidToken(f"typ {typ!r} is not at+jwt")
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        missing = [name for name in REQUIRED_CLAIMS if name not in claims]
        if missing:
            raise InvalidToken(f"missing claims {missing}")
        if claims["iss"] != self.issuer:
            raise InvalidToken("wrong issuer")
        aud = claims["aud"]
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise InvalidToken("not for this audience")
        now = self._clock()
        exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", 0)
        if not all(_is_number(value) for value in (exp, iat, nbf)):
            raise InvalidToken("exp, iat or nbf is not a number")
        if exp <= now - self.leeway:
            raise InvalidToken("expired")
        if iat > now + self.leeway or nbf > now + self.leeway:
            raise InvalidToken("not valid yet")
        for name in ("sub", "client_id", "jti"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise InvalidToken(f"{name} is not a string")
        if "scope" in claims and not isinstance(claims["scope"], str):
            raise InvalidToken("scope is not a string")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header (scheme case-insensitive), else None."""
    return bearer_token_of(request.headers.get("authorization"))


def describe(
    verifier: AccessTokenVerifier, scopes: list[str] | None = None
) -> ProtectedResource | None:
    """This API as RFC 9728 describes it, when its audience is a URL it can be reached at."""
    try:
        return ProtectedResource(
            resource=verifier.audience,
            authorization_servers=[verifier.issuer],
            scopes_supported=list(scopes or []),
        )
    except ValueError:
        return None


def _answer(challenge: Challenge) -> HTTPResponse:
    return json(challenge.body, status=challenge.status, headers=challenge.headers)


def create_app(
    verifier: AccessTokenVerifier,
    name: str = "resource_server",
    *,
    resource: ProtectedResource | None = None,
) -> App:
    """The API; `resource` (default: `describe(verifier)`) adds the RFC 9728 metadata."""
    app: App = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.verifier = verifier
    described = resource if resource is not None else describe(verifier)

    def refuse(error: str | None) -> HTTPResponse:
        if described is not None:
            return _answer(described.challenge(error))
        header = f'Bearer error="{error}"' if error else "Bearer"
        return json(
            {"error": error or "missing_token"}, status=401, headers={"WWW-Authenticate": header}
        )

    if described is not None:
        document = described.metadata()

        async def metadata(request: Request) -> HTTPResponse:
            return json(document, headers={"Cache-Control": "public, max-age=300"})

        for index, path in enumerate(described.metadata_paths()):
            app.add_route(metadata, path, methods=["GET"], name=f"metadata_{index}")

    @app.after_server_stop
    async def close_verifier(app: App) -> None:
        await app.ctx.verifier.close()

    @app.get("/api/hello")
    async def hello(request: Request) -> HTTPResponse:
        token = bearer_token(request)
        if token is None:
            return refuse(None)
        try:
            claims = await request.app.ctx.verifier.verify(token)
        except InvalidToken as exc:
            # A token for another resource (its `aud`) is refused here too (RFC 8707 §3).
            logger.info("refused access token: %s", exc)
            return refuse("invalid_token")
        except VerifierUnavailable as exc:
            logger.warning("cannot verify access tokens: %s", exc)
            return json({"error": "temporarily_unavailable"}, status=503)
        return json(
            {
                "sub": claims["sub"],
                "scope": claims.get("scope", ""),
                "client_id": claims["client_id"],
            }
        )

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", required=True, help="the provider's issuer URL")
    parser.add_argument(
        "--audience",
        required=True,
        help="this API's resource identifier (RFC 8707), the `aud` it accepts",
    )
    parser.add_argument(
        "--scope", action="append", default=[], help="a scope it defines (RFC 9728 metadata)"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ca-file", help="extra CA certificate (PEM) to trust for the issuer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    verifier = AccessTokenVerifier(args.issuer, args.audience, ca_file=args.ca_file)
    app = create_app(verifier, resource=describe(verifier, args.scope))
    app.run(host=args.host, port=args.port, single_process=True, motd=False, access_log=False)


if __name__ == "__main__":
    main()
