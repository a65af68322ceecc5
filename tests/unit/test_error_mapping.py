"""The edge's tables: each typed domain error becomes the JSON API's status, body and headers,
and a hosted page answers it with the same status and headers."""

from __future__ import annotations

from typing import Any

import pytest

from provider import domain_errors
from provider.cache.ratelimit import Allowance
from provider.domain_errors import (
    AccountDisabled,
    AccountLocked,
    AlreadyDeleted,
    AlreadyVerified,
    BuiltInClient,
    Conflict,
    DomainError,
    EmailTaken,
    IncorrectCode,
    IncorrectPassword,
    InvalidAccessToken,
    InvalidClientMetadata,
    InvalidCredentials,
    InvalidEnrolmentCode,
    InvalidGrant,
    InvalidMfaToken,
    InvalidOneTimeToken,
    InvalidPasskeyResponse,
    InvalidProtocolRequest,
    InvalidRedirectUri,
    InvalidRefreshToken,
    InvalidRequest,
    InvalidScope,
    InvalidSecondFactor,
    InvalidTarget,
    LastAdministrator,
    LastSignInMethod,
    MfaAlreadyEnabled,
    MfaEnrolmentNotStarted,
    MfaNotEnabled,
    NotDeleted,
    NotFound,
    OwnAccount,
    PasskeyChallengeInvalid,
    PasskeyExists,
    PasskeyRefused,
    ProtocolRefusal,
    RateLimited,
    ReauthenticationRequired,
    ResourceIdentifierTaken,
    TemporarilyUnavailable,
    UnapprovedSoftwareStatement,
    UnauthorizedClient,
    UntrustedAuthorizationRequest,
    UserDeleted,
    UsernameTaken,
    ValidationFailed,
)
from provider.http.errors import (
    api_error,
    bearer_refusal,
    http_headers,
    http_status,
    oauth_error,
    rate_limit_headers,
)

RETRY_AFTER = {"Retry-After": "30"}

# (error, status, code, message, details, headers): what the JSON API answered before the domain
# had types of its own.
CASES: list[tuple[DomainError, int, str, str, Any, dict[str, str]]] = [
    (
        InvalidRequest("role must be one of user."),
        400,
        "invalid_request",
        "role must be one of user.",
        None,
        {},
    ),
    (
        InvalidEnrolmentCode("The code is incorrect; check the device's clock."),
        400,
        "invalid_code",
        "The code is incorrect; check the device's clock.",
        None,
        {},
    ),
    (
        InvalidOneTimeToken("The reset link is invalid, expired or already used."),
        400,
        "invalid_token",
        "The reset link is invalid, expired or already used.",
        None,
        {},
    ),
    (
        UntrustedAuthorizationRequest("This application is not known to us."),
        400,
        "invalid_request",
        "This application is not known to us.",
        None,
        {},
    ),
    (
        InvalidCredentials(),
        401,
        "invalid_credentials",
        "The email, username or password is incorrect.",
        None,
        {},
    ),
    (
        InvalidAccessToken(),
        401,
        "invalid_token",
        "The access token is missing, invalid, expired or used up.",
        None,
        {},
    ),
    (
        InvalidMfaToken(),
        401,
        "invalid_mfa_token",
        "The sign-in attempt has expired or is unknown; start again.",
        None,
        {},
    ),
    (
        InvalidRefreshToken(),
        401,
        "invalid_refresh_token",
        "The refresh token is invalid, expired or revoked.",
        None,
        {},
    ),
    (
        PasskeyChallengeInvalid(),
        400,
        "invalid_passkey_challenge",
        "The passkey request has expired or was already used; start again.",
        None,
        {},
    ),
    (
        InvalidPasskeyResponse(),
        400,
        "invalid_passkey",
        "The passkey response could not be verified; try again.",
        None,
        {},
    ),
    (PasskeyRefused(), 401, "passkey_refused", "This passkey cannot sign you in.", None, {}),
    (PasskeyExists(), 409, "passkey_exists", "This passkey is registered already.", None, {}),
    (
        LastSignInMethod(),
        409,
        "last_sign_in_method",
        LastSignInMethod.default_message,
        None,
        {},
    ),
    (
        InvalidSecondFactor(),
        401,
        "invalid_code",
        "The code is incorrect or was already used.",
        None,
        {},
    ),
    (AccountDisabled(), 403, "account_disabled", "This account has been deleted.", None, {}),
    (IncorrectPassword(), 403, "invalid_password", "The password is incorrect.", None, {}),
    (
        IncorrectPassword("The current password is incorrect."),
        403,
        "invalid_password",
        "The current password is incorrect.",
        None,
        {},
    ),
    (IncorrectCode(), 403, "invalid_code", "The code is incorrect or was already used.", None, {}),
    (
        ReauthenticationRequired(300),
        403,
        "reauthentication_required",
        "Confirm your password (and second factor) again to continue.",
        {"max_age": 300},
        {},
    ),
    (NotFound("No such user."), 404, "not_found", "No such user.", None, {}),
    (
        Conflict("The account conflicts with an existing one."),
        409,
        "conflict",
        "The account conflicts with an existing one.",
        None,
        {},
    ),
    (UsernameTaken(), 409, "username_taken", "This username is taken.", None, {}),
    (
        LastAdministrator(),
        409,
        "last_admin",
        "You are the last administrator: make someone else an administrator before you delete "
        "your account.",
        None,
        {},
    ),
    (
        EmailTaken("ada@example.com", None, "Ada"),
        409,
        "email_taken",
        "An account with this email already exists.",
        None,
        {},
    ),
    (
        AlreadyVerified(),
        409,
        "already_verified",
        "This email address is already verified.",
        None,
        {},
    ),
    (
        MfaAlreadyEnabled(),
        409,
        "mfa_already_enabled",
        "Two-factor authentication is already on.",
        None,
        {},
    ),
    (MfaNotEnabled(), 409, "mfa_not_enabled", "Two-factor authentication is not on.", None, {}),
    (
        MfaEnrolmentNotStarted(),
        409,
        "mfa_enrolment_not_started",
        "Start the enrolment before confirming it.",
        None,
        {},
    ),
    (
        OwnAccount("Administrators cannot delete their own account here."),
        409,
        "own_account",
        "Administrators cannot delete their own account here.",
        None,
        {},
    ),
    (
        BuiltInClient(),
        409,
        "built_in_client",
        "The first-party app is built in: it cannot be changed, disabled or deleted here.",
        None,
        {},
    ),
    (
        ResourceIdentifierTaken(),
        409,
        "resource_exists",
        "A resource server with this identifier is registered already.",
        None,
        {},
    ),
    (UserDeleted(), 409, "user_deleted", "The account is deleted; restore it first.", None, {}),
    (AlreadyDeleted(), 409, "already_deleted", "The account is already deleted.", None, {}),
    (NotDeleted(), 409, "not_deleted", "The account is not deleted.", None, {}),
    (
        ValidationFailed({"password": ["is too short"]}),
        422,
        "validation_failed",
        "Some fields are not acceptable.",
        {"password": ["is too short"]},
        {},
    ),
    (
        AccountLocked(30),
        423,
        "account_locked",
        "Too many failed sign-in attempts; the account is locked for a while.",
        {"retry_after": 30},
        RETRY_AFTER,
    ),
    (
        RateLimited(30, 5),
        429,
        "rate_limited",
        "Too many requests; try again later.",
        {"retry_after": 30},
        {
            **RETRY_AFTER,
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "30",
        },
    ),
    (
        TemporarilyUnavailable("The account lock cannot be checked right now.", 30),
        503,
        "temporarily_unavailable",
        "The account lock cannot be checked right now.",
        None,
        RETRY_AFTER,
    ),
]


@pytest.mark.parametrize(
    ("error", "status", "code", "message", "details", "headers"),
    CASES,
    ids=[type(case[0]).__name__ + f"-{index}" for index, case in enumerate(CASES)],
)
def test_the_json_api_answers_each_domain_error_as_before(
    error: DomainError,
    status: int,
    code: str,
    message: str,
    details: Any,
    headers: dict[str, str],
) -> None:
    answer = api_error(error)
    assert (answer.status, answer.headers) == (status, headers)
    expected: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        expected["details"] = details
    expected["request_id"] = "r1"
    assert answer.body("r1") == {"error": expected}


@pytest.mark.parametrize(("error", "status", "headers"), [(c[0], c[1], c[5]) for c in CASES])
def test_a_page_answers_with_the_status_and_headers_of_the_api(
    error: DomainError, status: int, headers: dict[str, str]
) -> None:
    assert http_status(error) == status
    assert http_headers(error) == headers


def _descendants(kind: type[DomainError]) -> set[type[DomainError]]:
    return {found for child in kind.__subclasses__() for found in {child, *_descendants(child)}}


def test_every_domain_error_has_a_code_and_a_status_and_a_case_here() -> None:
    listed = {type(case[0]) for case in CASES}
    declared = {
        kind
        for kind in _descendants(DomainError)
        if kind.__module__ == domain_errors.__name__
        and not issubclass(kind, ProtocolRefusal)  # answered by the OAuth table, below
    }
    assert len(declared) > 20
    for kind in declared:
        assert kind in listed, kind.__name__
        assert kind.code


PROTOCOL_CASES: list[tuple[ProtocolRefusal, str]] = [
    (InvalidProtocolRequest("code is required."), "invalid_request"),
    (InvalidGrant("The code was issued to another client."), "invalid_grant"),
    (InvalidScope("The scope exceeds what was granted."), "invalid_scope"),
    (UnauthorizedClient("Public clients cannot use this grant."), "unauthorized_client"),
    (InvalidRedirectUri("redirect URI must use https."), "invalid_redirect_uri"),
    (InvalidClientMetadata("grant type not allowed."), "invalid_client_metadata"),
    (UnapprovedSoftwareStatement("Not accepted."), "unapproved_software_statement"),
    (InvalidTarget("This resource is not known."), "invalid_target"),
]


@pytest.mark.parametrize(("error", "code"), PROTOCOL_CASES)
def test_a_protocol_refusal_answers_as_rfc_6749_section_5_2(
    error: ProtocolRefusal, code: str
) -> None:
    answer = oauth_error(error)
    assert answer.status == 400
    assert answer.body() == {"error": code, "error_description": error.message}


def test_every_protocol_refusal_has_a_case_here() -> None:
    declared = {kind for kind in _descendants(ProtocolRefusal)}
    assert declared == {type(case[0]) for case in PROTOCOL_CASES}


def test_an_error_without_a_status_is_a_programming_error() -> None:
    class Unmapped(DomainError):
        code = "unmapped"

    with pytest.raises(LookupError):
        http_status(Unmapped("no"))


def test_a_refused_registration_credential_answers_as_rfc_6750_section_3_1() -> None:
    answer = bearer_refusal(InvalidAccessToken())
    assert answer.status == 401
    assert answer.headers == {"WWW-Authenticate": 'Bearer realm="provider", error="invalid_token"'}
    assert answer.body()["error"] == "invalid_token"


def test_an_allowed_request_is_told_the_room_left() -> None:
    assert rate_limit_headers(Allowance(limit=10, remaining=7, reset=60)) == {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "7",
        "X-RateLimit-Reset": "60",
    }
