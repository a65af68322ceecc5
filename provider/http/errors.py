"""The errors of the HTTP adapters, and the JSON API's table of the domain's errors.

Responses carry codes and messages; debug detail goes to logs only. The domain raises the types of
`provider.domain_errors`; `api_error` turns one into the JSON API's answer (status, envelope and
headers), and the hosted pages answer with the same status and headers (`http_status`,
`http_headers`).
"""

from __future__ import annotations

from typing import Any

from provider.cache.ratelimit import Allowance
from provider.domain_errors import (
    AccountDisabled,
    AccountLocked,
    Conflict,
    DomainError,
    IncorrectCode,
    IncorrectPassword,
    InvalidAccessToken,
    InvalidCredentials,
    InvalidEnrolmentCode,
    InvalidMfaToken,
    InvalidOneTimeToken,
    InvalidPasskeyResponse,
    InvalidRefreshToken,
    InvalidRequest,
    InvalidSecondFactor,
    NotFound,
    PasskeyChallengeInvalid,
    PasskeyRefused,
    ProtocolRefusal,
    RateLimited,
    ReauthenticationRequired,
    TemporarilyUnavailable,
    UntrustedAuthorizationRequest,
    ValidationFailed,
)


class ApiError(Exception):
    """An error of the JSON API: `{"error": {"code", "message", "details"?, "request_id"}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        error["request_id"] = request_id
        return {"error": error}


# The status of each domain error; a subclass answers as its listed ancestor (no listed type is a
# subclass of another, so at most one matches).
_STATUS: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    UntrustedAuthorizationRequest: 400,
    InvalidEnrolmentCode: 400,
    InvalidOneTimeToken: 400,
    InvalidPasskeyResponse: 400,
    PasskeyChallengeInvalid: 400,
    InvalidCredentials: 401,
    InvalidAccessToken: 401,
    InvalidMfaToken: 401,
    InvalidRefreshToken: 401,
    InvalidSecondFactor: 401,
    PasskeyRefused: 401,
    AccountDisabled: 403,
    IncorrectPassword: 403,
    IncorrectCode: 403,
    ReauthenticationRequired: 403,
    ProtocolRefusal: 400,
    NotFound: 404,
    Conflict: 409,
    ValidationFailed: 422,
    AccountLocked: 423,
    RateLimited: 429,
    TemporarilyUnavailable: 503,
}


def http_status(error: DomainError) -> int:
    for kind, status in _STATUS.items():
        if isinstance(error, kind):
            return status
    raise LookupError(f"{type(error).__name__} has no status")


def http_headers(error: DomainError) -> dict[str, str]:
    """The headers that tell a client when to come back (RFC 9110 §10.2.3 Retry-After)."""
    if isinstance(error, RateLimited):
        seconds = str(error.retry_after)
        return {
            "Retry-After": seconds,
            "X-RateLimit-Limit": str(error.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": seconds,
        }
    if isinstance(error, AccountLocked | TemporarilyUnavailable):
        return {"Retry-After": str(error.retry_after)}
    return {}


def api_error(error: DomainError) -> ApiError:
    """The JSON API's answer to a domain error."""
    return ApiError(
        http_status(error),
        error.code,
        error.message,
        details=error.details,
        headers=http_headers(error),
    )


def oauth_error(error: ProtocolRefusal) -> OAuthError:
    """The RFC 6749 §5.2 answer to a protocol refusal: every such code answers 400."""
    return OAuthError(error.code, error.message)


def bearer_refusal(error: InvalidAccessToken) -> OAuthError:
    """RFC 6750 §3.1: 401 invalid_token, with the challenge that names it."""
    return OAuthError(
        error.code,
        error.message,
        status=401,
        headers={"WWW-Authenticate": f'Bearer realm="provider", error="{error.code}"'},
    )


def rate_limit_headers(room: Allowance) -> dict[str, str]:
    """How much room a rate limit leaves, on an allowed request."""
    return {
        "X-RateLimit-Limit": str(room.limit),
        "X-RateLimit-Remaining": str(room.remaining),
        "X-RateLimit-Reset": str(room.reset),
    }


def unauthorized(message: str = "Authentication required.", code: str = "unauthorized") -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="provider"'})


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: `{"error", "error_description"}` with its status and headers."""

    def __init__(
        self,
        error: str,
        description: str = "",
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body
