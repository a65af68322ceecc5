"""The first-party app: the organisation's own client of the account API, a registered client.

It is a row of `clients` like any relying party, so the JSON API issues its tokens with the code
that serves /token (`oauth.issuance`) and keeps its refresh tokens in the same families. What sets
it apart:
- its id is `first-party` and its audience the account API (`Settings.api_audience`): only its
  tokens pass the API's guard, and no other client may name that audience (`validate_spec`);
- it has no secret, no redirect URI and no grant type, and the OAuth endpoints do not know it
  (`oauth.clients.find_client`): it signs users in through /v1/auth only, never through
  /authorize or /token;
- the provider writes its row from the settings, and the admin API and pages neither show nor
  change it.

The row is written at start rather than by a migration: its audience comes from the issuer, a
setting a migration does not have and a deployment may change; a row deleted or edited by hand is
put back at the next start. Logins and refreshes mint from `registration(settings)`, which is
what that write makes the row hold, so the hot path reads no row and a missing one breaks no
sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provider.accounts.limits import admit_refresh
from provider.accounts.login import CompletedLogin
from provider.cache.ratelimit import Allowance
from provider.config import Settings
from provider.context import Caller, Services
from provider.domain_errors import BuiltInClient, InvalidRefreshToken
from provider.oauth.issuance import Subject, mint_for_client, refresh_for_client
from provider.ops.metrics import AUTH_OPERATIONS
from provider.sessions.access_tokens import MintedToken
from provider.sessions.service import RefreshRejected
from provider.storage.built_in_clients import BuiltInClients
from provider.storage.db import default_connection
from provider.storage.models import Client, Session, User

FIRST_PARTY_CLIENT_ID = "first-party"
FIRST_PARTY_NAME = "First-party app"


@dataclass(frozen=True, slots=True)
class FirstPartyTokens:
    """What the first-party app holds after a sign-in, a re-authentication or a refresh."""

    user: User
    session: Session
    access: MintedToken
    refresh_token: str


@dataclass(frozen=True, slots=True)
class FirstPartyRefresh:
    tokens: FirstPartyTokens
    allowance: Allowance


def registration(settings: Settings) -> Client:
    """The row as these settings describe it (not saved)."""
    return Client(
        id=FIRST_PARTY_CLIENT_ID,
        name=FIRST_PARTY_NAME,
        public=True,
        token_endpoint_auth_method="none",
        redirect_uris=[],
        post_logout_redirect_uris=[],
        grant_types=[],
        scopes=[],
        audience=settings.api_audience,
        first_party=True,
    )


async def first_party_app(settings: Settings) -> Client:
    """The registered row, written first if it is missing or differs from `registration`."""
    return await BuiltInClients(default_connection()).put(registration(settings))


def is_built_in(client_id: str) -> bool:
    return client_id == FIRST_PARTY_CLIENT_ID


def refuse_changes_to_built_in(client_id: str) -> None:
    """The admin API's edits, secret rotation, disabling and deletion stop here."""
    if is_built_in(client_id):
        raise BuiltInClient()


async def tokens_for_login(services: Services, login: CompletedLogin) -> FirstPartyTokens:
    """The access token that goes with the refresh token a login or re-authentication issued."""
    assert login.refresh_token is not None, "API logins always issue a refresh token"
    client = registration(services.settings)
    access = mint_for_client(services, client, Subject(login.user, login.session), [])
    return FirstPartyTokens(login.user, login.session, access, login.refresh_token)


async def refresh_first_party(
    services: Services, caller: Caller, read_token: Callable[[], str]
) -> FirstPartyRefresh:
    """Exchange the app's refresh token for a new pair, under the per-address refresh limit.

    The arrival is counted before `read_token` reads the token from the request: a body that does
    not parse spends the budget too (see `provider.accounts.limits`). Raises `RateLimited`, or
    `InvalidRefreshToken` for a token that is unknown, dead or reused (reuse revokes the family
    and its session first, as at /token).
    """
    admitted = await admit_refresh(services, caller)
    presented = read_token()
    client = registration(services.settings)
    try:
        refreshed = await refresh_for_client(services, caller, client, presented)
    except RefreshRejected as exc:
        AUTH_OPERATIONS.labels(operation="refresh", outcome=exc.reason).inc()
        raise InvalidRefreshToken() from exc
    AUTH_OPERATIONS.labels(operation="refresh", outcome="success").inc()
    tokens = FirstPartyTokens(
        refreshed.user, refreshed.session, refreshed.access, refreshed.refresh_token
    )
    return FirstPartyRefresh(tokens, admitted.allowance)
