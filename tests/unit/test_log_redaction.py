"""Structured logs never carry secrets: keys that look secret and Bearer/Basic credentials."""

from __future__ import annotations

import json
import logging
import os

import pytest

from provider.ops.logging import JsonFormatter, TextFormatter, redact, request_id_var

SECRET = "s3cr3t-value-that-must-not-leak"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "passwd",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "Authorization",
        "cookie",
        "Set-Cookie",
        "code_verifier",
        "otp",
        "totp_code",
        "code",
    ],
)
def test_secret_looking_keys_are_redacted(key: str) -> None:
    assert redact({key: SECRET, "user": "ada"}) == {key: "[redacted]", "user": "ada"}


def test_redaction_is_recursive_through_dicts_lists_and_tuples() -> None:
    value = {
        "request": {"headers": {"authorization": SECRET}, "path": "/v1/auth/sessions"},
        "attempts": [{"password": SECRET}, ("x", {"refresh_token": SECRET})],
    }
    redacted = redact(value)
    assert SECRET not in json.dumps(redacted)
    assert redacted["request"]["path"] == "/v1/auth/sessions"
    assert redacted["attempts"][1][0] == "x"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Basic"])
def test_credentials_inside_strings_are_redacted(scheme: str) -> None:
    text = f"GET /v1/auth/me with Authorization: {scheme} eyJhbGci.eyJzdWIi.c2ln== done"
    redacted = redact(text)
    assert "eyJhbGci" not in redacted
    assert redacted.endswith(f"{scheme} [redacted] done")


def test_harmless_values_are_untouched() -> None:
    value = {"event": "user.login", "count": 3, "ok": True, "ids": [1, 2], "none": None}
    assert redact(value) == value
    assert redact("codebase") == "codebase"
    assert redact({"encode": "x", "codename": "y"}) == {"encode": "x", "codename": "y"}


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("provider.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    record.request_id = request_id_var.get()
    return record


def test_json_lines_carry_level_logger_request_id_and_redacted_extras() -> None:
    token = request_id_var.set("req-123")
    try:
        record = _record(
            "login by %s with Bearer %s",
            "ada",
            SECRET,
            password=SECRET,
            headers={"Authorization": f"Bearer {SECRET}"},
            status=200,
        )
    finally:
        request_id_var.reset(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert SECRET not in line
    assert entry["level"] == "info"
    assert entry["logger"] == "provider.test"
    assert entry["pid"] == os.getpid()
    assert entry["request_id"] == "req-123"
    assert entry["message"] == "login by ada with Bearer [redacted]"
    assert entry["password"] == "[redacted]"
    assert entry["headers"] == {"Authorization": "[redacted]"}
    assert entry["status"] == 200


def test_json_lines_keep_exceptions_on_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_text_lines_are_redacted_too() -> None:
    record = _record("Bearer %s", SECRET, refresh_token=SECRET, route="/v1/auth/me")
    line = TextFormatter().format(record)
    assert SECRET not in line
    assert "refresh_token=[redacted]" in line
    assert "route=/v1/auth/me" in line
