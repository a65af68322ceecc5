"""Why an upstream sign-in or a provider's configuration is refused.

Each type extends one the adapters' tables already map (provider.http.errors), so the JSON API
and the pages answer them without rows of their own.
"""

from __future__ import annotations

from typing import Any

from provider.domain_errors import Conflict, InvalidRequest, NotFound


class UpstreamSignInFailed(InvalidRequest):
    """An upstream sign-in that cannot go on; `reason` is what the audit row records."""

    code = "upstream_sign_in_failed"
    reason = "failed"
    default_message = "Signing in with that provider did not work."

    def __init__(
        self, message: str | None = None, *, details: Any = None, user_id: str | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.user_id = user_id


class UpstreamDenied(UpstreamSignInFailed):
    """The upstream answered the callback with an error (the user said no, most often)."""

    reason = "upstream_error"
    default_message = "The sign-in was cancelled or refused at the provider."


class InvalidCallback(UpstreamSignInFailed):
    """The callback's state is unknown, already used, expired, or from another browser."""

    reason = "invalid_state"
    default_message = "This sign-in link is not valid any more. Start again from the sign-in page."


class InvalidUpstreamToken(UpstreamSignInFailed):
    """The upstream's ID token or user did not pass the checks (signature, issuer, nonce, …)."""

    reason = "invalid_id_token"
    default_message = "The provider's answer could not be verified."


class UpstreamUnavailable(UpstreamSignInFailed):
    """The upstream could not be reached, answered too slowly, too much, or not as expected."""

    reason = "upstream_unavailable"
    default_message = "The provider could not be reached. Try again in a moment."


class SignUpClosed(UpstreamSignInFailed):
    """No account matches and the provider does not allow new accounts."""

    reason = "signup_disallowed"
    default_message = (
        "There is no account for this identity, and new accounts cannot be created with this "
        "provider. Sign in with your password, or ask an administrator."
    )


class AccountUnusable(UpstreamSignInFailed):
    """The linked or matching account is deleted."""

    reason = "account_disabled"
    default_message = "This account has been deleted."


class IdentityTaken(Conflict):
    """The upstream account is linked to another user already, or this user has a link there."""

    code = "identity_taken"
    default_message = "That account at the provider is already linked to a user."


class LastSignInMethod(Conflict):
    """Removing the link would leave the account with no password and no other provider."""

    code = "last_sign_in_method"
    default_message = (
        "This is the only way to sign in to your account. Set a password first "
        "(through “Forgot password?”), then remove the link."
    )


class UnknownProvider(NotFound):
    code = "not_found"
    default_message = "No such identity provider."


class ProviderSlugTaken(Conflict):
    code = "idp_exists"
    default_message = "An identity provider with that slug exists."
