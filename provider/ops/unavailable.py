"""A store that cannot be reached is 503 with Retry-After, in the shape of the endpoint's family.

The database being down (refused or dropped connections, a server shutting down or refusing
connections) is not a bug of the request: clients and load balancers should retry, not file a
500. A cache error that reaches this far is mapped the same way, as a safety net.
"""

from __future__ import annotations

import sys

from provider.cache.base import CacheUnavailable

RETRY_AFTER = "5"

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused / reset / aborted sockets; tortoise's DBConnectionError
    TimeoutError,  # connecting or acquiring a pooled connection took too long
    CacheUnavailable,
)
# Endpoints whose errors are RFC 6749 §5.2 JSON bodies.
OAUTH_JSON_PATHS = frozenset({"/token", "/introspect", "/revoke", "/userinfo"})
# Dynamic client registration (RFC 7591) and each client's configuration (RFC 7592).
OAUTH_JSON_PREFIXES = ("/oauth/clients",)
# Hosted pages: people read their errors.
PAGE_PREFIXES = (
    "/login",
    "/register",
    "/account",
    "/admin",
    "/consent",
    "/authorize",
    "/logout",
    "/email",
    "/password",
)


def is_unavailable(exc: BaseException) -> bool:
    """`exc`, or an error it was raised from, says a store cannot be reached."""
    unavailable = _UNAVAILABLE + _postgres_unavailable()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, unavailable):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _postgres_unavailable() -> tuple[type[BaseException], ...]:
    """asyncpg's errors for a PostgreSQL that cannot be reached. Looked up, not imported: a
    process on SQLite never loads asyncpg (a twelfth of its start), and then none of its errors
    can be raised."""
    pg = sys.modules.get("asyncpg.exceptions")
    if pg is None:
        return ()
    return (
        pg.PostgresConnectionError,  # SQLSTATE class 08, a connection lost mid-query
        pg.OperatorInterventionError,  # class 57: shutting down, cannot connect now
        pg.TooManyConnectionsError,
    )


def family(path: str) -> str:
    """`oauth`, `page` or `api`: which error shape an answer on `path` uses."""
    if path in OAUTH_JSON_PATHS or any(
        path == prefix or path.startswith(f"{prefix}/") for prefix in OAUTH_JSON_PREFIXES
    ):
        return "oauth"
    if any(path == prefix or path.startswith(f"{prefix}/") for prefix in PAGE_PREFIXES):
        return "page"
    return "api"
