"""Durable state. Secrets are stored as SHA-256 hashes, never in clear."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

ROLES = ("user", "admin", "auditor")


class User(Model):
    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    username = fields.CharField(max_length=64, unique=True, null=True)
    name = fields.CharField(max_length=200, default="")
    password_hash = fields.CharField(max_length=255)
    role = fields.CharField(max_length=16, default="user")
    email_verified_at = fields.DatetimeField(null=True)
    locked_until = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"


# Class docstrings would become table comments, which Tortoise does not escape in its SQL.
# A login of one user on one device; refresh-token families hang off it.
class Session(Model):
    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="sessions", on_delete=fields.CASCADE
    )
    user_id: str
    created_at = fields.DatetimeField()
    last_active_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    auth_time = fields.DatetimeField()
    amr: list[str] = fields.JSONField(default=list)
    acr = fields.CharField(max_length=64, default="")
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=512, default="")
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=64, null=True)
    compromised_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sessions"
        indexes = (("user_id", "revoked_at"),)


# One link of a rotation chain; family_id groups one grant of one session to one client.
class RefreshToken(Model):
    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    family_id = fields.UUIDField(db_index=True)
    parent_id = fields.UUIDField(null=True)
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "provider.Session", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    session_id: str
    user_id = fields.UUIDField(db_index=True)
    client_id = fields.CharField(max_length=128)
    scope = fields.CharField(max_length=1024, default="")
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    family_expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "refresh_tokens"


# Single-use secrets sent by mail or handed between steps (verification, reset, MFA).
class OneTimeToken(Model):
    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=32)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="one_time_tokens", on_delete=fields.CASCADE
    )
    user_id: str
    data: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "one_time_tokens"


class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(db_index=True)
    event = fields.CharField(max_length=64, db_index=True)
    outcome = fields.CharField(max_length=16)
    user_id = fields.UUIDField(null=True, db_index=True)
    session_id = fields.UUIDField(null=True)
    client_id = fields.CharField(max_length=128, null=True)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=512, default="")
    request_id = fields.CharField(max_length=128, default="")
    details: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_events"
