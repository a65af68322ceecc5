"""Building a token response for a client (RFC 6749 §5.1): access, ID and refresh tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from provider.context import Caller, Services
from provider.domain_errors import InvalidScope
from provider.oauth.app_claims import app_claims
from provider.oauth.id_token import Authentication, mint_id_token
from provider.oauth.resources import Target, check_subset, resolve_target
from provider.sessions.access_tokens import AccessGrant, MintedToken, mint_access_token
from provider.sessions.service import rotate_refresh_token
from provider.storage.models import Client, Session, User

DENYLIST_PREFIX = "deny:jti:"
CLIENT_DENYLIST_PREFIX = "deny:client:"


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom the tokens are about: a user in a session, or the client itself. `authentication`
    overrides the session's own record, for a code issued before the session stepped up."""

    user: User | None
    session: Session | None
    authentication: Authentication | None = None
    # The `roles`/`groups` claims granted (provider.oauth.app_claims), in every token issued.
    app_claims: dict[str, Any] = field(default_factory=dict)

    def authenticated(self) -> Authentication | None:
        if self.authentication is not None:
            return self.authentication
        return Authentication.of(self.session) if self.session is not None else None


def mint_for_client(
    services: Services,
    client: Client,
    subject: Subject,
    scopes: list[str],
    target: Target | None = None,
) -> MintedToken:
    """The access token; with a `target`, audience-restricted to its resource servers (RFC 8707
    §2), with their lifetime and algorithm. `scopes` are then already narrowed to them."""
    settings = services.settings
    session = subject.session
    authenticated = subject.authenticated()
    grant = AccessGrant(
        subject=str(subject.user.id) if subject.user else client.id,
        client_id=client.id,
        scope=" ".join(scopes),
        session_id=str(session.id) if session else None,
        auth_time=int(authenticated.time.timestamp()) if authenticated else None,
        # Never the issuer nor the account API: by default a token is for its own client only.
        audience=target.audience if target else client.audience or client.id,
        user_claims=subject.app_claims,
    )
    ttl = client.access_token_ttl or settings.access_token_ttl
    if target is not None:
        return mint_access_token(
            services.keystore, settings.issuer, target.ttl(ttl), grant, target.alg
        )
    return mint_access_token(
        services.keystore, settings.issuer, ttl, grant, client.access_token_signed_response_alg
    )


async def target_of_grant(
    services: Services, client: Client, granted: list[str], requested: list[str]
) -> Target | None:
    """The resource servers a token of this grant is for: those `requested` (each one of the
    grant's, RFC 8707 §2.2), else all of the grant's; None for a grant without resources."""
    if granted:
        check_subset(requested, granted)
    identifiers = requested or granted
    return await resolve_target(services, client, identifiers) if identifiers else None


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What a refresh token was exchanged for: its successor and a new access token."""

    user: User
    session: Session
    subject: Subject
    scopes: list[str]
    access: MintedToken
    refresh_token: str


async def refresh_for_client(
    services: Services,
    caller: Caller,
    client: Client,
    presented: str,
    requested: list[str] | None = None,
    resources: list[str] | None = None,
) -> Refreshed:
    """Rotate `presented` in its family and mint the access token of its successor.

    `requested` narrows the granted scopes (RFC 6749 §6); `resources` picks among the grant's
    resource servers (RFC 8707 §2.2), and the scopes narrow to theirs. Raises `RefreshRejected`
    for a token that is unknown, dead or not the client's; a used one revokes its family first.
    """
    rotation = await rotate_refresh_token(services, caller, presented, client.id)
    scopes = rotation.scope.split()
    if requested is not None:
        check_narrowing(requested, scopes)
        scopes = requested
    target = await target_of_grant(services, client, rotation.resources, resources or [])
    if target is not None:
        scopes = target.narrow(scopes)
    subject = Subject(
        user=rotation.user,
        session=rotation.session,
        # A change of the user's roles takes effect here, at the next token.
        app_claims=await app_claims(client, rotation.user.id, scopes),
    )
    access = mint_for_client(services, client, subject, scopes, target)
    return Refreshed(
        rotation.user, rotation.session, subject, scopes, access, rotation.refresh_token
    )


def check_narrowing(requested: list[str], granted: list[str]) -> None:
    # RFC 6749 §6: the scope MUST NOT include any scope not originally granted.
    if not set(requested) <= set(granted):
        raise InvalidScope("The scope exceeds what was granted.")


def token_response(
    services: Services,
    client: Client,
    subject: Subject,
    scopes: list[str],
    access: MintedToken,
    *,
    refresh_token: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "scope": " ".join(scopes),
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    if "openid" in scopes and subject.user is not None and subject.session is not None:
        body["id_token"] = mint_id_token(
            services.keystore,
            services.settings.issuer,
            services.settings.access_token_ttl,
            client=client,
            user=subject.user,
            session=subject.session,
            authentication=subject.authenticated() or Authentication.of(subject.session),
            scopes=scopes,
            extra_claims=subject.app_claims,
            nonce=nonce,
            access_token=access.value,
        )
    return body


def may_refresh(client: Client, scopes: list[str]) -> bool:
    """Refresh tokens go to clients allowed the grant that got offline_access, or first-party."""
    return "refresh_token" in client.grant_types and (
        "offline_access" in scopes or client.first_party
    )


async def deny_client_tokens(services: Services, client: Client) -> None:
    """Refuse the access tokens a disabled or deleted client holds now, until they expire."""
    ttl = max(client.access_token_ttl or 0, services.settings.access_token_ttl)
    await services.cache.set_eventually(
        CLIENT_DENYLIST_PREFIX + client.id, str(time.time()), ttl + 5
    )
