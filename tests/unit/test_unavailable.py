"""Which errors mean "a store is unreachable" (503), and which error shape each path answers in."""

from __future__ import annotations

import pytest
from asyncpg import exceptions as pg
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

from provider.cache.base import CacheUnavailable
from provider.http.errors import ApiError
from provider.ops.unavailable import family, is_unavailable


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(),
        DBConnectionError("no database"),
        TimeoutError(),
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        pg.CannotConnectNowError("the database system is starting up"),
        pg.AdminShutdownError("terminating connection due to administrator command"),
        pg.TooManyConnectionsError("too many clients"),
        CacheUnavailable("redis down"),
    ],
)
def test_unreachable_stores_are_unavailable(exc: Exception) -> None:
    assert is_unavailable(exc)


def test_an_error_raised_from_an_unreachable_store_is_unavailable() -> None:
    outer = RuntimeError("while saving")
    outer.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert is_unavailable(outer)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad"),
        IntegrityError("duplicate key"),
        OperationalError("syntax error"),
        ApiError(400, "invalid_request", "no"),
        RecursionError(),
    ],
)
def test_bugs_and_bad_input_are_not_unavailable(exc: Exception) -> None:
    assert not is_unavailable(exc)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/token", "oauth"),
        ("/introspect", "oauth"),
        ("/revoke", "oauth"),
        ("/userinfo", "oauth"),
        ("/login", "page"),
        ("/login/mfa", "page"),
        ("/admin/users/1", "page"),
        ("/authorize", "page"),
        ("/password/reset", "page"),
        ("/v1/auth/sessions", "api"),
        ("/v1/admin/users", "api"),
        ("/metrics", "api"),
        ("/loginx", "api"),
        ("/tokens", "api"),
    ],
)
def test_each_path_answers_in_its_family_shape(path: str, kind: str) -> None:
    assert family(path) == kind
