"""Refresh rotation in one PostgreSQL statement: the hot path of every token refresh.

The portable path of `RefreshFamilies` (refresh_families.py) takes six round trips. Here
data-modifying CTEs do the same in one: claim the presented token (only if its session is live,
its user not deleted and it belongs to the client), insert its child, touch the session (when its
recorded activity is older than `activity_step`) and write the audit row.
PostgreSQL runs the statement atomically, and the conditional UPDATE keeps single use under
concurrency exactly as in the portable path: a second claimant re-checks `used_at IS NULL` after the
first commits and gets no row. When no row comes back, `RefreshFamilies` falls back to the portable
path's explanation (unknown, expired, revoked, or reuse, which revokes the family).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from provider.context import Caller
from provider.storage.models import Session, User
from provider.storage.sessions import activity_step

_SESSION_COLUMNS = [f for f in Session._meta.db_fields if f != "user_id"]
_USER_COLUMNS = list(User._meta.db_fields)
# (the statement's column alias, the model's column), to read a row without scanning its keys.
_SESSION_KEYS = tuple((f"s__{column}", column) for column in _SESSION_COLUMNS)
_USER_KEYS = tuple((f"u__{column}", column) for column in _USER_COLUMNS)


def _columns(alias: str, columns: list[str]) -> str:
    return ", ".join(f'{alias}."{column}" AS "{alias}__{column}"' for column in columns)


# Column names come from the models; every value is a bound parameter.
ROTATE = f"""
WITH claimed AS (
    UPDATE refresh_tokens AS t SET used_at = $2
    FROM sessions AS s, users AS u
    WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
      AND t.client_id = $3
      AND s.id = t.session_id AND s.revoked_at IS NULL AND s.compromised_at IS NULL
      AND s.expires_at > $2 AND s.last_active_at > $4
      AND u.id = t.user_id AND u.deleted_at IS NULL
    RETURNING t.id AS parent_id, t.family_id, t.scope, t.resources, t.family_expires_at,
      s.user_id,
      {_columns("s", _SESSION_COLUMNS)}, {_columns("u", _USER_COLUMNS)}
), child AS (
    INSERT INTO refresh_tokens (id, token_hash, family_id, parent_id, session_id, user_id,
        client_id, scope, resources, created_at, expires_at, family_expires_at)
    SELECT $5, $6, family_id, parent_id, s__id, user_id, $3, scope, resources, $2,
        LEAST($7, family_expires_at), family_expires_at
    FROM claimed
    RETURNING id
), touched AS (
    UPDATE sessions SET last_active_at = $2
    WHERE id = (SELECT s__id FROM claimed) AND last_active_at <= $11
    RETURNING last_active_at
), audit AS (
    INSERT INTO audit_events (created_at, event, outcome, user_id, session_id, client_id, ip,
        user_agent, request_id, details)
    SELECT $2, 'token.refreshed', 'success', user_id, s__id, $3, $8, $9, $10,
        jsonb_build_object('family_id', family_id::text)
    FROM claimed
    RETURNING id
)
SELECT claimed.*, (SELECT id FROM audit) AS audit_id,
    (SELECT last_active_at FROM touched) AS touched_at
FROM claimed
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class Rotated:
    session: Session
    user: User
    family_id: uuid.UUID
    scope: str
    resources: list[str]
    audit_id: int


async def rotate_in_one_statement(
    conn: BaseDBAsyncClient,
    caller: Caller,
    *,
    digest: str,
    child_hash: str,
    client_id: str,
    now: datetime,
    idle: timedelta,
) -> Rotated | None:
    """The rotation, or None when the token could not be claimed (nothing was changed)."""
    rows = await conn.execute_query_dict(
        ROTATE,
        [
            digest,
            now,
            client_id,
            now - idle,
            uuid.uuid4(),
            child_hash,
            now + idle,
            caller.ip,
            caller.user_agent[:512],
            caller.request_id,
            now - activity_step(idle),
        ],
    )
    if not rows:
        return None
    row = rows[0]
    session = Session._init_from_db(**_unprefix(row, _SESSION_KEYS), user_id=row["user_id"])
    if row["touched_at"] is not None:
        session.last_active_at = row["touched_at"]
    user = User._init_from_db(**_unprefix(row, _USER_KEYS))
    session.user = user
    return Rotated(
        session, user, row["family_id"], row["scope"], _resources(row["resources"]), row["audit_id"]
    )


def _resources(value: Any) -> list[str]:
    """The JSON column as the driver returns it: text, a decoded list, or NULL."""
    decoded = json.loads(value) if isinstance(value, str | bytes) else value
    return [str(item) for item in decoded or []]


def _unprefix(row: dict[str, Any], keys: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {column: row[alias] for alias, column in keys}
