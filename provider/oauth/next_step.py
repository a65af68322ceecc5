"""What an authorization request needs next, decided from plain facts: no I/O, no HTTP.

The authorize endpoint and every hosted page of the flow come back to one decision, in this order:
sign in, a verified email, a second factor, consent, then the code. `prompt=none` is one rule on
top of it (OIDC Core §3.1.2.1: the server MUST NOT display any page), not a check in each step.
The adapter (`protocol.authorize_flow.proceed`) gathers the facts, asks, and renders the answer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from provider.accounts.login import ACR_MFA
from provider.oauth.flows import Flow


@dataclass(frozen=True)
class SignedIn:
    """The browser's live session, as far as the decision needs it."""

    session_id: str
    user_id: str
    auth_time: datetime
    amr: Sequence[str]
    email_verified: bool


@dataclass(frozen=True)
class ClientRules:
    """What the client demands of every sign-in it receives."""

    first_party: bool
    require_verified_email: bool
    require_mfa: bool


@dataclass(frozen=True)
class Login:
    """Show the login page."""


@dataclass(frozen=True)
class VerifyEmail:
    """Explain that the client needs a verified address."""


@dataclass(frozen=True)
class SecondFactor:
    """Step up with the second factor (or explain how to enrol one)."""


@dataclass(frozen=True)
class Consent:
    """Ask the user to allow the requested scopes."""


@dataclass(frozen=True)
class IssueCode:
    """Everything is met: issue the code and send the browser back."""


@dataclass(frozen=True)
class Refuse:
    """Answer the client with an error (only for prompt=none)."""

    error: str
    description: str


Step = Login | VerifyEmail | SecondFactor | Consent | IssueCode | Refuse

# OIDC Core §3.1.2.6: the error each page that prompt=none cannot show turns into.
_PROMPT_NONE_ERRORS: dict[type[Step], Refuse] = {
    Login: Refuse("login_required", "The user is not signed in."),
    VerifyEmail: Refuse("interaction_required", "The user's email address is not verified."),
    SecondFactor: Refuse("interaction_required", "Two-factor authentication is required."),
    Consent: Refuse("consent_required", "The user has not consented."),
}


def next_authorization_step(
    flow: Flow,
    client: ClientRules,
    session: SignedIn | None,
    *,
    now: datetime,
    hint_subject: str | None,
    consented_scopes: Collection[str] | None,
) -> Step:
    """The next step of `flow` for this browser.

    `hint_subject` is the `sub` of a valid id_token_hint (None without one); `consented_scopes`
    the scopes the user has stored consent for with this client (None when there is none).
    """
    step = _needed(flow, client, session, now, hint_subject, consented_scopes)
    if "none" in flow.request.prompt and not isinstance(step, IssueCode):
        return _PROMPT_NONE_ERRORS[type(step)]
    return step


def needs_stored_consent(flow: Flow, client: ClientRules, session: SignedIn | None) -> bool:
    """Whether the decision will read the stored consent: the adapter loads it only then."""
    return (
        session is not None
        and not client.first_party
        and flow.consented_session_id != session.session_id
        and "consent" not in flow.request.prompt
    )


def _needed(
    flow: Flow,
    client: ClientRules,
    session: SignedIn | None,
    now: datetime,
    hint_subject: str | None,
    consented_scopes: Collection[str] | None,
) -> Step:
    if session is None or _needs_login(flow, session, now, hint_subject):
        return Login()
    if client.require_verified_email and not session.email_verified:
        return VerifyEmail()
    if _needs_mfa(flow, client, session):
        return SecondFactor()
    if _needs_consent(flow, client, session, consented_scopes):
        return Consent()
    return IssueCode()


def _needs_login(flow: Flow, session: SignedIn, now: datetime, hint_subject: str | None) -> bool:
    auth = flow.request
    if flow.login_session_id == session.session_id:
        return False  # signed in during this very flow: prompt=login and max_age are met
    if "login" in auth.prompt or "select_account" in auth.prompt:
        return True
    # OIDC Core §3.1.2.1: re-authenticate when the last one is older than max_age.
    if auth.max_age is not None and (now - session.auth_time).total_seconds() > auth.max_age:
        return True
    return hint_subject is not None and hint_subject != session.user_id


def _needs_mfa(flow: Flow, client: ClientRules, session: SignedIn) -> bool:
    """The client, or the request's acr_values, asks for two factors; the session has only one.

    acr_values is a voluntary request (OIDC Core §3.1.2.1, §5.5.1.1); the one value we define,
    urn:provider:acr:mfa, is honoured as a requirement so the ID token's acr never claims less.
    """
    wanted = client.require_mfa or ACR_MFA in flow.request.acr_values
    return wanted and "mfa" not in session.amr


def _needs_consent(
    flow: Flow, client: ClientRules, session: SignedIn, consented_scopes: Collection[str] | None
) -> bool:
    if client.first_party or flow.consented_session_id == session.session_id:
        return False
    if "consent" in flow.request.prompt:
        return True
    return consented_scopes is None or not set(flow.request.scopes) <= set(consented_scopes)
