"""The listings the admin API and the admin pages share: users, clients and audit rows.

Each turns checked query parameters (provider.http.admin_params) into a store query and the
store's page into rows and the opaque cursor of the next page (None on the last).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from provider.accounts.administration import STATUSES
from provider.http.admin_params import (
    cursor_datetime,
    cursor_int64,
    cursor_str,
    cursor_uuid,
    datetime_of,
    decode_cursor,
    encode_cursor,
    invalid,
    limit_of,
    uuid_of,
)
from provider.oauth.first_party import FIRST_PARTY_CLIENT_ID
from provider.storage.audit_log import AuditFilter, AuditLog
from provider.storage.clients import MAX_CLIENT_ID_LENGTH, Clients
from provider.storage.db import default_connection
from provider.storage.models import ROLES, AuditEvent, Client, User
from provider.storage.users import USER_SORTS, UserFilter, Users, UserSort, UserStatus, sort_key

USER_LIST_PARAMS = {"q", "role", "status", "created_from", "created_to", "sort", "limit", "cursor"}
AUDIT_FILTERS = {"user_id", "client_id", "event", "outcome", "ip", "from", "to"}


async def users_page(params: dict[str, str], now: datetime) -> tuple[list[User], str | None]:
    """One page of users matching `params` (see USER_LIST_PARAMS), and the next page's cursor."""
    sort = params.get("sort", "-created_at")
    if sort not in USER_SORTS:
        raise invalid("sort", f"must be one of {', '.join(USER_SORTS)}")
    order: UserSort = sort
    limit = limit_of(params)
    filters = _user_filter(params)
    after = _user_position(params["cursor"], order) if "cursor" in params else None
    users, more = await Users(default_connection()).page(
        filters, sort=order, after=after, limit=limit, now=now
    )
    if not more:
        return users, None
    key = sort_key(users[-1], order)
    position = key.isoformat() if isinstance(key, datetime) else key
    return users, encode_cursor(f"users:{order}", [position, str(users[-1].id)])


def _user_filter(params: dict[str, str]) -> UserFilter:
    if "role" in params and params["role"] not in ROLES:
        raise invalid("role", f"must be one of {', '.join(ROLES)}")
    if "status" in params and params["status"] not in STATUSES:
        raise invalid("status", f"must be one of {', '.join(STATUSES)}")
    return UserFilter(
        text=params.get("q"),
        role=params.get("role"),
        status=cast("UserStatus | None", params.get("status")),
        created_from=datetime_of("created_from", params["created_from"])
        if "created_from" in params
        else None,
        created_to=datetime_of("created_to", params["created_to"], end_of_day=True)
        if "created_to" in params
        else None,
    )


def _user_position(cursor: str, sort: UserSort) -> tuple[str | datetime, uuid.UUID]:
    key, last_id = decode_cursor(cursor, f"users:{sort}", 2)
    after_id = cursor_uuid(last_id)
    if sort == "email":
        return cursor_str(key, 254), after_id
    return cursor_datetime(key), after_id


async def clients_page(params: dict[str, str]) -> tuple[list[Client], str | None]:
    """One page of clients, oldest first, and the next page's cursor."""
    limit = limit_of(params)
    after = None
    if "cursor" in params:
        created, last_id = decode_cursor(params["cursor"], "clients", 2)
        after = (cursor_datetime(created), cursor_str(last_id, MAX_CLIENT_ID_LENGTH))
    # The built-in first-party app is not listed: nothing about it is an admin's to change.
    clients, more = await Clients(default_connection()).page(
        after=after, limit=limit, hidden={FIRST_PARTY_CLIENT_ID}
    )
    if not more:
        return clients, None
    return clients, encode_cursor("clients", [clients[-1].created_at.isoformat(), clients[-1].id])


def audit_filter(params: dict[str, str]) -> AuditFilter:
    """The audit filters of `params` (see AUDIT_FILTERS); `to` as a bare date means its end."""
    return AuditFilter(
        user_id=uuid_of("user_id", params["user_id"]) if "user_id" in params else None,
        client_id=params.get("client_id"),
        event=params.get("event"),
        outcome=params.get("outcome"),
        ip=params.get("ip"),
        since=datetime_of("from", params["from"]) if "from" in params else None,
        until=datetime_of("to", params["to"], end_of_day=True) if "to" in params else None,
    )


def audit_position(params: dict[str, str]) -> int | None:
    """The id below which the page of `params["cursor"]` starts; None without a cursor."""
    if "cursor" not in params:
        return None
    (last_id,) = decode_cursor(params["cursor"], "audit", 1)
    return cursor_int64(last_id)


async def audit_page(params: dict[str, str], limit: int) -> tuple[list[AuditEvent], str | None]:
    """One page of events, newest first, and the cursor of the next (None on the last)."""
    filters, before_id = audit_filter(params), audit_position(params)
    events, more = await AuditLog(default_connection()).page(
        filters, before_id=before_id, limit=limit
    )
    return events, encode_cursor("audit", [events[-1].id]) if more else None
