"""Validating an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636).

Errors before the client and its redirect URI are known are shown on our error page and never
redirected (RFC 6749 §4.1.2.1, open-redirect defence); errors after that go back to the client.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from provider.context import Caller, Services
from provider.domain_errors import DomainError, InvalidTarget, UntrustedAuthorizationRequest
from provider.oauth.client_id_documents import client_from_document, is_document_client_id
from provider.oauth.clients import find_client
from provider.oauth.redirect_uris import registered_redirect
from provider.oauth.resources import Target, requestable_scopes, resolve_target
from provider.oauth.scopes import parse_scope
from provider.storage.models import Client

PROMPTS = frozenset({"none", "login", "consent", "select_account"})
RESPONSE_MODES = ("query", "form_post")
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
# The nonce is stored with the code (authorization_codes.nonce); longer would fail the insert.
MAX_NONCE_LENGTH = 512


class AuthorizationRefused(DomainError):
    """An RFC 6749 §4.1.2.1 error sent back to the client's redirect URI.

    `error` is the protocol's code for it; `request` holds what was validated before the refusal
    (the redirect URI, the state to echo, the response mode).
    """

    code = "authorization_refused"

    def __init__(self, request: AuthorizationRequest, error: str, description: str) -> None:
        super().__init__(description)
        self.request = request
        self.error = error
        self.description = description


@dataclass
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    response_mode: str = "query"
    state: str | None = None
    scopes: list[str] = field(default_factory=list)
    nonce: str | None = None
    code_challenge: str | None = None
    prompt: list[str] = field(default_factory=list)
    max_age: int | None = None
    login_hint: str | None = None
    id_token_hint: str | None = None
    acr_values: list[str] = field(default_factory=list)
    ui_locales: str | None = None
    # The resource servers the tokens will be for (RFC 8707 §2.1).
    resources: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.resources:
            # Left out when empty: a flow without resources stays readable by a worker of the
            # previous release during a rolling restart.
            del data["resources"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthorizationRequest:
        return cls(**data)


async def load_client_and_redirect(
    services: Services, caller: Caller, params: dict[str, str]
) -> tuple[Client, str]:
    """The client and its exactly-matching redirect URI, or a PageError.

    A client_id that is an https URL names a client ID metadata document: it is read first
    (provider.oauth.client_id_documents), when the setting allows them."""
    client_id = params.get("client_id")
    if not client_id:
        raise UntrustedAuthorizationRequest(
            "The application did not identify itself (client_id is missing)."
        )
    if services.settings.client_id_metadata_documents and is_document_client_id(client_id):
        await client_from_document(services, caller, client_id)
    client = await find_client(client_id)
    if client is None:
        raise UntrustedAuthorizationRequest("This application is not known to us.")
    if "authorization_code" not in client.grant_types:
        raise UntrustedAuthorizationRequest("This application may not sign users in.")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        # OIDC Core §3.1.2.1 requires redirect_uri; plain OAuth may omit it with one registered.
        if "openid" in parse_scope(params.get("scope", "")) or len(client.redirect_uris) != 1:
            raise UntrustedAuthorizationRequest(
                "The application did not say where to return (redirect_uri)."
            )
        redirect_uri = client.redirect_uris[0]
    # RFC 6749 §3.1.2.3 / OAuth 2.1: exact string comparison with a registered URI, but for the
    # port of a loopback IP address (RFC 8252 §7.3).
    if not registered_redirect(client.redirect_uris, redirect_uri):
        raise UntrustedAuthorizationRequest(
            "The return address is not registered for this application."
        )
    return client, redirect_uri


async def validate_request(
    services: Services,
    client: Client,
    redirect_uri: str,
    params: dict[str, str],
    resources: tuple[str, ...] = (),
) -> AuthorizationRequest:
    """Every check that can be reported to the client; raises AuthorizationRefused."""
    request = AuthorizationRequest(
        client_id=client.id,
        redirect_uri=redirect_uri,
        state=params.get("state"),
        response_mode=params.get("response_mode", "query"),
    )
    if request.response_mode not in RESPONSE_MODES:
        request.response_mode = "query"
        raise AuthorizationRefused(request, "invalid_request", "Unsupported response_mode.")
    if "request" in params:
        raise AuthorizationRefused(
            request, "request_not_supported", "Request objects are not supported."
        )
    if "request_uri" in params:
        raise AuthorizationRefused(
            request, "request_uri_not_supported", "request_uri is not supported."
        )
    response_type = params.get("response_type")
    if response_type is None:
        raise AuthorizationRefused(request, "invalid_request", "response_type is required.")
    if response_type != "code":
        raise AuthorizationRefused(
            request, "unsupported_response_type", "Only 'code' is supported."
        )
    target = await _target(request, services, client, resources)
    _scopes(request, client, params, target)
    _pkce(request, client, params)
    _prompt_and_age(request, params)
    request.nonce = params.get("nonce")
    if request.nonce is not None and len(request.nonce) > MAX_NONCE_LENGTH:
        raise AuthorizationRefused(request, "invalid_request", "nonce is too long.")
    request.login_hint = params.get("login_hint")
    request.id_token_hint = params.get("id_token_hint")
    request.acr_values = params.get("acr_values", "").split()
    request.ui_locales = params.get("ui_locales")
    return request


async def _target(
    request: AuthorizationRequest, services: Services, client: Client, resources: tuple[str, ...]
) -> Target | None:
    if not resources:
        return None
    try:
        target = await resolve_target(services, client, resources)
    except InvalidTarget as exc:
        # RFC 8707 §2: invalid_target, sent back to the client like any other refusal.
        raise AuthorizationRefused(request, exc.code, exc.message) from exc
    request.resources = target.identifiers
    return target


def _scopes(
    request: AuthorizationRequest, client: Client, params: dict[str, str], target: Target | None
) -> None:
    scopes = parse_scope(params.get("scope", ""))
    allowed = requestable_scopes(client, target)
    refused = [scope for scope in scopes if scope not in allowed]
    if refused:
        raise AuthorizationRefused(
            request, "invalid_scope", f"Scope not allowed: {' '.join(refused)}."
        )
    if not scopes:
        raise AuthorizationRefused(request, "invalid_scope", "A scope is required.")
    request.scopes = scopes


def _pkce(request: AuthorizationRequest, client: Client, params: dict[str, str]) -> None:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if client.public:
            # OAuth 2.1 §4.1.1 / RFC 9700 §2.1.1: public clients MUST use PKCE.
            raise AuthorizationRefused(
                request, "invalid_request", "PKCE is required for this client."
            )
        if method is not None:
            raise AuthorizationRefused(request, "invalid_request", "code_challenge is missing.")
        return
    if method != "S256":
        # RFC 9700 §2.1.1: plain is not allowed; S256 is the only method we accept.
        raise AuthorizationRefused(
            request, "invalid_request", "code_challenge_method must be S256."
        )
    if not _CODE_CHALLENGE.fullmatch(challenge):
        raise AuthorizationRefused(request, "invalid_request", "code_challenge is malformed.")
    request.code_challenge = challenge


def _prompt_and_age(request: AuthorizationRequest, params: dict[str, str]) -> None:
    prompt = params.get("prompt", "").split()
    if any(value not in PROMPTS for value in prompt):
        raise AuthorizationRefused(request, "invalid_request", "Unknown prompt value.")
    if "none" in prompt and len(prompt) > 1:
        # OIDC Core §3.1.2.1: none with any other value is an error.
        raise AuthorizationRefused(request, "invalid_request", "prompt=none cannot be combined.")
    request.prompt = prompt
    if "max_age" in params:
        try:
            max_age = int(params["max_age"])
        except ValueError:
            max_age = -1
        if max_age < 0:
            raise AuthorizationRefused(
                request, "invalid_request", "max_age must be a whole number."
            )
        request.max_age = max_age
