"""Talking to an upstream provider: the redirect there, and what its callback proves.

The authorization URL carries state, PKCE S256 and (OIDC) a nonce; the code exchange is a plain
form POST. Both are done here rather than through an OAuth client library so that every HTTP call
(token, userinfo, discovery and JWKS) goes through one client type and
provider.net.guarded_http.GuardedTransport, the outbound policy as an httpx transport: https only
(http only to loopback in development), no private addresses, a deadline and a size cap per call,
no redirects. The ID token is checked by provider.federation.id_tokens. Upstream tokens are used
for this one exchange and never stored.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from provider.accounts.identity import normalize_email
from provider.crypto.tokens import s256_challenge
from provider.federation.errors import InvalidUpstreamToken, UpstreamDenied, UpstreamUnavailable
from provider.federation.id_tokens import TENANT_PLACEHOLDER, verify_id_token
from provider.federation.providers import Upstream
from provider.net.documents import DocumentCache
from provider.net.outbound import FetchedJson, OutboundBadResponse, OutboundError, OutboundPolicy

if TYPE_CHECKING:
    import httpx

# httpx (and the transport built on it) is imported where an upstream is called: importing it
# also imports its command line's console and highlighting libraries, a noticeable share of
# `provider serve`'s start-up for a feature used only when someone signs in with an upstream.

DISCOVERY_PATH = "/.well-known/openid-configuration"
# RFC 8176 §2 `mfa`, and the acr values that stand for more than one factor.
MFA_ACR_VALUES = {
    "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
    "urn:provider:acr:mfa",
    "mfa",
}


@dataclass(frozen=True, slots=True)
class Started:
    """Where to send the browser, and the secrets its callback must match."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class UpstreamIdentity:
    """Who the upstream says the user is."""

    subject: str
    email: str | None
    email_verified: bool
    name: str
    mfa: bool


@dataclass(frozen=True, slots=True)
class _Endpoints:
    issuer: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    jwks_uri: str
    auth_method: str


_caches: dict[OutboundPolicy, DocumentCache] = {}


def _documents(policy: OutboundPolicy) -> DocumentCache:
    """Discovery documents and JWKS, cached per worker (provider.net.documents)."""
    cache = _caches.get(policy)
    if cache is None:
        cache = _caches[policy] = DocumentCache(_fetcher(policy))
    return cache


def _fetcher(policy: OutboundPolicy) -> Callable[[str], Awaitable[FetchedJson]]:
    async def fetch(url: str) -> FetchedJson:
        import httpx

        from provider.net.guarded_http import GuardedTransport

        async with httpx.AsyncClient(transport=GuardedTransport(policy)) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
        if response.status_code != httpx.codes.OK:
            raise OutboundBadResponse(f"status {response.status_code}")
        document = _json_object(response)
        if document is None:
            raise OutboundBadResponse("not a JSON object")
        return FetchedJson(document, None)

    return fetch


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        document = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


async def _endpoints(upstream: Upstream, policy: OutboundPolicy) -> _Endpoints:
    if upstream.kind == "oauth2":
        return _Endpoints(
            "", upstream.authorize_url, upstream.token_url, upstream.userinfo_url, "", "post"
        )
    issuer = upstream.issuer.rstrip("/")
    try:
        found = await _documents(policy).get(issuer + DISCOVERY_PATH)
    except OutboundError as exc:
        raise UpstreamUnavailable() from exc
    named = found.get("issuer")
    # OIDC Discovery §4.3: the document's issuer is the one configured (Microsoft's `common`
    # tenant names a template instead, filled in per token).
    if not isinstance(named, str) or (
        named.rstrip("/") != issuer and TENANT_PLACEHOLDER not in named
    ):
        raise UpstreamUnavailable("The provider's discovery document names another issuer.")
    fields = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(found.get(name), str) for name in fields):
        raise UpstreamUnavailable("The provider's discovery document is incomplete.")
    methods = found.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return _Endpoints(
        issuer=named,
        authorize_url=found["authorization_endpoint"],
        token_url=found["token_endpoint"],
        userinfo_url=str(found.get("userinfo_endpoint") or ""),
        jwks_uri=found["jwks_uri"],
        auth_method="basic" if "client_secret_basic" in methods else "post",
    )


def _http(policy: OutboundPolicy) -> httpx.AsyncClient:
    import httpx

    from provider.net.guarded_http import GuardedTransport

    return httpx.AsyncClient(transport=GuardedTransport(policy), timeout=policy.deadline)


def _with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to whatever query it already has (RFC 6749 §3.1)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


async def begin(upstream: Upstream, redirect_uri: str, policy: OutboundPolicy) -> Started:
    """The authorization URL with a fresh state, nonce (OIDC) and PKCE verifier."""
    endpoints = await _endpoints(upstream, policy)
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(24) if upstream.kind == "oidc" else ""
    params = {
        "response_type": "code",
        "client_id": upstream.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(upstream.scopes),
        "state": state,
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if nonce:
        params["nonce"] = nonce
    return Started(_with_query(endpoints.authorize_url, params), state, nonce, verifier)


async def finish(
    upstream: Upstream,
    redirect_uri: str,
    policy: OutboundPolicy,
    *,
    code: str,
    nonce: str,
    code_verifier: str,
) -> UpstreamIdentity:
    """Exchange the code, then check the ID token (OIDC) or fetch the user (OAuth2)."""
    endpoints = await _endpoints(upstream, policy)
    async with _http(policy) as http:
        token = await _exchange_code(http, upstream, endpoints, redirect_uri, code, code_verifier)
        access = _Bearer(http, token["access_token"])
        if upstream.kind == "oidc":
            return await _oidc_identity(access, upstream, endpoints, policy, token, nonce)
        return await _oauth2_identity(access, upstream, endpoints)


async def _exchange_code(
    http: httpx.AsyncClient,
    upstream: Upstream,
    endpoints: _Endpoints,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """RFC 6749 §4.1.3 with RFC 7636 §4.5; the client authenticates as the upstream asks."""
    import httpx

    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    headers = {"Accept": "application/json"}
    secret = upstream.client_secret
    if secret and endpoints.auth_method == "basic":
        # RFC 6749 §2.3.1: id and secret are form-encoded before they are joined.
        pair = f"{quote(upstream.client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    else:
        form["client_id"] = upstream.client_id
        if secret:
            form["client_secret"] = secret
    try:
        response = await http.post(endpoints.token_url, data=form, headers=headers)
    except (OutboundError, httpx.HTTPError) as exc:
        raise UpstreamUnavailable() from exc
    if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
        raise UpstreamUnavailable(f"The provider answered {response.status_code}.")
    token = _json_object(response)
    if token is None:
        raise UpstreamUnavailable("The provider's token response is not a JSON object.")
    # RFC 6749 §5.2: an error response names an `error`.
    if "error" in token or response.status_code != httpx.codes.OK:
        raise UpstreamDenied("The provider refused the sign-in code.")
    if not isinstance(token.get("access_token"), str):
        raise InvalidUpstreamToken("The provider sent no access token.")
    return token


@dataclass(frozen=True, slots=True)
class _Bearer:
    """The upstream's access token, for its userinfo (and GitHub's emails) endpoint."""

    http: httpx.AsyncClient
    access_token: str


async def _get_json(client: _Bearer, url: str) -> Any:
    import httpx

    headers = {"Accept": "application/json", "Authorization": f"Bearer {client.access_token}"}
    try:
        response = await client.http.get(url, headers=headers)
    except (OutboundError, httpx.HTTPError) as exc:
        raise UpstreamUnavailable() from exc
    if response.status_code != httpx.codes.OK:
        raise UpstreamUnavailable(f"The provider answered {response.status_code}.")
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError) as exc:
        raise UpstreamUnavailable() from exc


async def _oidc_identity(
    client: _Bearer,
    upstream: Upstream,
    endpoints: _Endpoints,
    policy: OutboundPolicy,
    token: dict[str, Any],
    nonce: str,
) -> UpstreamIdentity:
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise InvalidUpstreamToken("The provider sent no ID token.")

    async def load_keys(refresh: bool) -> dict[str, Any]:
        try:
            return await _documents(policy).get(endpoints.jwks_uri, refresh=refresh)
        except OutboundError as exc:
            raise UpstreamUnavailable() from exc

    claims = await verify_id_token(
        id_token,
        load_keys,
        issuer=endpoints.issuer,
        client_id=upstream.client_id,
        nonce=nonce,
        now=time.time(),
    )
    if "email" not in claims and endpoints.userinfo_url:
        info = await _get_json(client, endpoints.userinfo_url)
        # OIDC Core §5.3.2: userinfo about anyone but the token's subject is not used.
        if isinstance(info, dict) and info.get("sub") == claims["sub"]:
            claims = {**info, **claims}
    return _identity(
        claims["sub"],
        claims.get("email"),
        claims.get("email_verified") is True,
        claims.get("name"),
        _reports_mfa(claims),
    )


def _reports_mfa(claims: dict[str, Any]) -> bool:
    amr = claims.get("amr")
    acr = claims.get("acr")
    return (isinstance(amr, list) and "mfa" in amr) or acr in MFA_ACR_VALUES


async def _oauth2_identity(
    client: _Bearer, upstream: Upstream, endpoints: _Endpoints
) -> UpstreamIdentity:
    user = await _get_json(client, endpoints.userinfo_url)
    if not isinstance(user, dict):
        raise InvalidUpstreamToken("The provider's user is not an object.")
    mapping = upstream.claims
    subject = user.get(mapping["sub"])
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if not isinstance(subject, str):
        raise InvalidUpstreamToken("The provider's user has no id.")
    email = user.get(mapping.get("email", ""))
    verified = mapping.get("email_verified") and user.get(mapping["email_verified"]) is True
    if upstream.emails_url:
        email, verified = _primary_email(await _get_json(client, upstream.emails_url))
    return _identity(subject, email, bool(verified), user.get(mapping.get("name", "")), False)


def _primary_email(emails: Any) -> tuple[str | None, bool]:
    """GitHub's `GET /user/emails`: the primary address, and whether it is verified."""
    if isinstance(emails, list):
        for entry in emails:
            if isinstance(entry, dict) and entry.get("primary") is True:
                address = entry.get("email")
                return (address if isinstance(address, str) else None), entry.get(
                    "verified"
                ) is True
    return None, False


def _identity(
    subject: str, email: object, verified: bool, name: object, mfa: bool
) -> UpstreamIdentity:
    if not 0 < len(subject) <= 255:
        raise InvalidUpstreamToken("The provider's user id is not usable.")
    normalized = normalize_email(email) if isinstance(email, str) else None
    return UpstreamIdentity(
        subject=subject,
        email=normalized,
        email_verified=verified and normalized is not None,
        name=name.strip()[:200] if isinstance(name, str) else "",
        mfa=mfa,
    )
