"""The one error hierarchy. Responses carry codes and messages; debug detail goes to logs only."""

from __future__ import annotations

from typing import Any


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


def bad_request(message: str, details: Any = None) -> ApiError:
    return ApiError(400, "invalid_request", message, details=details)


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
