"""Why the domain refuses something, as types: no HTTP status, no header, no page.

Every error carries the stable machine `code` the JSON API answers, a human `message`, optional
`details`, and the data an adapter needs to answer it (`retry_after`, `limit`, `max_age`). Each
adapter family maps these types to its own answer at the edge: `provider.http.errors.api_error`
for the JSON API (status, envelope, `Retry-After`/`X-RateLimit-*`), `provider.web` for the pages.
Infrastructure raises some of them too (a rate limit, an unreadable lock), so this module imports
nothing of the project.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Phrase(str):
    """English text made of a message id with named placeholders and their values.

    It is the English sentence wherever a string goes (the JSON API, logs, the command line);
    a page translates `text` into the reader's language first and fills in `values` then, so a
    translation puts the values where its grammar wants them.
    """

    text: str
    values: dict[str, object]

    def __new__(cls, text: str, **values: object) -> Phrase:
        phrase = super().__new__(cls, text % values)
        phrase.text = text
        phrase.values = values
        return phrase


class DomainError(Exception):
    """The root: a request the domain refuses, and why."""

    code: ClassVar[str]
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        self.details = details


# --- the request itself -------------------------------------------------------------------------


class InvalidRequest(DomainError):
    """A value the rules refuse that is not a field of a form (a missing code, an unknown role)."""

    code = "invalid_request"


class ValidationFailed(DomainError):
    """Fields that are not acceptable; `details` maps each field to its reasons."""

    code = "validation_failed"
    default_message = "Some fields are not acceptable."

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__(details=problems)
        self.problems = problems


class NotFound(DomainError):
    code = "not_found"


# --- proving who one is ---------------------------------------------------------------------------


class InvalidCredentials(DomainError):
    """Sign-in: unknown account and wrong password look the same."""

    code = "invalid_credentials"
    default_message = "The email, username or password is incorrect."


class AccountDisabled(DomainError):
    code = "account_disabled"
    default_message = "This account has been deleted."


class AccountLocked(DomainError):
    """Too many failures; `retry_after` seconds until the lock ends."""

    code = "account_locked"
    default_message = "Too many failed sign-in attempts; the account is locked for a while."

    def __init__(self, retry_after: int) -> None:
        super().__init__(details={"retry_after": retry_after})
        self.retry_after = retry_after


class InvalidMfaToken(DomainError):
    """The challenge of a sign-in's second step is unknown, expired, spent or not this browser's."""

    code = "invalid_mfa_token"
    default_message = "The sign-in attempt has expired or is unknown; start again."


class InvalidSecondFactor(DomainError):
    """The second step of a sign-in got a wrong or spent code: the sign-in does not happen."""

    code = "invalid_code"
    default_message = "The code is incorrect or was already used."


class IncorrectPassword(DomainError):
    """A signed-in user's password, asked again to allow a sensitive change, is wrong."""

    code = "invalid_password"
    default_message = "The password is incorrect."


class IncorrectCode(DomainError):
    """A signed-in user's code, asked again to allow a sensitive change, is wrong or spent."""

    code = "invalid_code"
    default_message = "The code is incorrect or was already used."


class InvalidEnrolmentCode(DomainError):
    """The code that should prove a new authenticator was set up does not match it."""

    code = "invalid_code"


class ReauthenticationRequired(DomainError):
    """The sign-in is older than `max_age` seconds: the user proves themselves again first."""

    code = "reauthentication_required"
    default_message = "Confirm your password (and second factor) again to continue."

    def __init__(self, max_age: int) -> None:
        super().__init__(details={"max_age": max_age})
        self.max_age = max_age


class PasskeyChallengeInvalid(DomainError):
    """The passkey ceremony is unknown, expired, already answered, or not this caller's."""

    code = "invalid_passkey_challenge"
    default_message = "The passkey request has expired or was already used; start again."


class InvalidPasskeyResponse(DomainError):
    """A passkey response that cannot be verified: malformed, made for another origin or RP ID,
    or not for this ceremony's challenge."""

    code = "invalid_passkey"
    default_message = "The passkey response could not be verified; try again."


class PasskeyRefused(DomainError):
    """A passkey sign-in that proves nobody: an unknown credential, a wrong signature, another
    user's handle, or a signature counter that went backwards (a possible clone)."""

    code = "passkey_refused"
    default_message = "This passkey cannot sign you in."


class InvalidOneTimeToken(DomainError):
    """A link's token (email verification, password reset) is unknown, expired or spent."""

    code = "invalid_token"


class InvalidRefreshToken(DomainError):
    """The first-party app's refresh token is unknown, expired, revoked or used (reuse revoked
    its family before this was raised)."""

    code = "invalid_refresh_token"
    default_message = "The refresh token is invalid, expired or revoked."


# --- the state of an account ----------------------------------------------------------------------


class Conflict(DomainError):
    """The account is not in a state that allows the change."""

    code = "conflict"


class UsernameTaken(Conflict):
    code = "username_taken"
    default_message = "This username is taken."


class EmailTaken(Conflict):
    """The address belongs to an account already (which a public sign-up must not reveal)."""

    code = "email_taken"
    default_message = "An account with this email already exists."

    def __init__(self, email: str, username: str | None, name: str) -> None:
        super().__init__()
        self.email = email
        self.username = username
        self.name = name


class AlreadyVerified(Conflict):
    code = "already_verified"
    default_message = "This email address is already verified."


class MfaAlreadyEnabled(Conflict):
    code = "mfa_already_enabled"
    default_message = "Two-factor authentication is already on."


class MfaNotEnabled(Conflict):
    code = "mfa_not_enabled"
    default_message = "Two-factor authentication is not on."


class MfaEnrolmentNotStarted(Conflict):
    code = "mfa_enrolment_not_started"
    default_message = "Start the enrolment before confirming it."


class OwnAccount(Conflict):
    """Administrators cannot lock, delete or demote themselves."""

    code = "own_account"


class UserDeleted(Conflict):
    code = "user_deleted"
    default_message = "The account is deleted; restore it first."


class AlreadyDeleted(Conflict):
    code = "already_deleted"
    default_message = "The account is already deleted."


class NotDeleted(Conflict):
    code = "not_deleted"
    default_message = "The account is not deleted."


class LastAdministrator(Conflict):
    """The last active administrator may not delete their own account."""

    code = "last_admin"
    default_message = (
        "You are the last administrator: make someone else an administrator before you delete "
        "your account."
    )


class PasskeyExists(Conflict):
    code = "passkey_exists"
    default_message = "This passkey is registered already."


class LastSignInMethod(Conflict):
    """Removing it would leave the account with no password, passkey or linked provider."""

    code = "last_sign_in_method"
    default_message = (
        "This is the only way to sign in to your account. Add another passkey or set a "
        "password (through “Forgot password?”) first."
    )


# --- the registry of clients ----------------------------------------------------------------------


class BuiltInClient(Conflict):
    """The first-party app is registered by the provider itself, from its settings."""

    code = "built_in_client"
    default_message = (
        "The first-party app is built in: it cannot be changed, disabled or deleted here."
    )


class ResourceIdentifierTaken(Conflict):
    """Another resource server has this identifier already."""

    code = "resource_exists"
    default_message = "A resource server with this identifier is registered already."


# --- the OAuth protocol ---------------------------------------------------------------------------


class UntrustedAuthorizationRequest(DomainError):
    """An authorization request whose client or redirect URI cannot be trusted.

    RFC 6749 §4.1.2.1: the provider MUST NOT redirect then; the user is told on its own page.
    """

    code = "invalid_request"


class ProtocolRefusal(DomainError):
    """A refusal the OAuth protocol names: `code` is the RFC 6749 §5.2 `error` a client reads.

    The token, introspection and revocation endpoints answer it as `{"error",
    "error_description"}`; the JSON API never sees one.
    """


class InvalidProtocolRequest(ProtocolRefusal):
    code = "invalid_request"


class InvalidGrant(ProtocolRefusal):
    """A code, refresh token or verifier that is unknown, expired, used or not this client's."""

    code = "invalid_grant"


class InvalidScope(ProtocolRefusal):
    code = "invalid_scope"


class InvalidTarget(ProtocolRefusal):
    """A `resource` that is malformed, unknown or not allowed to the client (RFC 8707 §2)."""

    code = "invalid_target"


class UnauthorizedClient(ProtocolRefusal):
    """A client asking for a grant it may not use."""

    code = "unauthorized_client"


# --- clients that register themselves (RFC 7591 §3.2.2, RFC 7592) ------------------------------


class InvalidRedirectUri(ProtocolRefusal):
    """A redirect URI the registration policy refuses."""

    code = "invalid_redirect_uri"


class InvalidClientMetadata(ProtocolRefusal):
    """Any other field of a registration (or of a client ID metadata document) refused."""

    code = "invalid_client_metadata"


class UnapprovedSoftwareStatement(ProtocolRefusal):
    """Software statements are not accepted: nothing here is set up to trust their issuers."""

    code = "unapproved_software_statement"


class InvalidAccessToken(DomainError):
    """A bearer credential of the registration endpoints (an initial access token, a registration
    access token) that is missing, unknown, expired, spent or not this client's (RFC 6750 §3.1)."""

    code = "invalid_token"
    default_message = "The access token is missing, invalid, expired or used up."


# --- capacity -------------------------------------------------------------------------------------


class RateLimited(DomainError):
    """More than `limit` requests in the window; `retry_after` seconds until one is allowed."""

    code = "rate_limited"
    default_message = "Too many requests; try again later."

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(details={"retry_after": retry_after})
        self.retry_after = retry_after
        self.limit = limit


class TemporarilyUnavailable(DomainError):
    """A store that decides security cannot be read: fail closed, retry after `retry_after` s."""

    code = "temporarily_unavailable"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
