from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("event", fields.CharField(db_index=True, max_length=64)),
                ("outcome", fields.CharField(max_length=16)),
                ("user_id", fields.UUIDField(null=True, db_index=True)),
                ("session_id", fields.UUIDField(null=True)),
                ("client_id", fields.CharField(null=True, max_length=128)),
                ("ip", fields.CharField(default="", max_length=64)),
                ("user_agent", fields.CharField(default="", max_length=512)),
                ("request_id", fields.CharField(default="", max_length=128)),
                (
                    "details",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
            ],
            options={"table": "audit_events", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Client",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128),
                ),
                ("name", fields.CharField(max_length=200)),
                ("secret_hash", fields.CharField(null=True, max_length=64)),
                ("previous_secret_hash", fields.CharField(null=True, max_length=64)),
                (
                    "previous_secret_expires_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("public", fields.BooleanField(default=False)),
                (
                    "redirect_uris",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "post_logout_redirect_uris",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "grant_types",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "scopes",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "token_endpoint_auth_method",
                    fields.CharField(default="client_secret_basic", max_length=32),
                ),
                (
                    "jwks",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("jwks_uri", fields.CharField(null=True, max_length=2048)),
                ("id_token_signed_response_alg", fields.CharField(default="RS256", max_length=16)),
                (
                    "access_token_signed_response_alg",
                    fields.CharField(default="RS256", max_length=16),
                ),
                ("audience", fields.CharField(default="", max_length=512)),
                ("access_token_ttl", fields.IntField(null=True)),
                ("refresh_token_ttl", fields.IntField(null=True)),
                ("first_party", fields.BooleanField(default=False)),
                ("require_mfa", fields.BooleanField(default=False)),
                ("require_verified_email", fields.BooleanField(default=False)),
                ("disabled", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "clients", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("username", fields.CharField(null=True, unique=True, max_length=64)),
                ("name", fields.CharField(default="", max_length=200)),
                ("password_hash", fields.CharField(max_length=255)),
                ("role", fields.CharField(default="user", max_length=16)),
                (
                    "email_verified_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "locked_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("phone_number", fields.CharField(null=True, max_length=32)),
                (
                    "address",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("deleted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("totp_secret", fields.CharField(null=True, max_length=255)),
                ("totp_pending_secret", fields.CharField(null=True, max_length=255)),
                (
                    "totp_enabled_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("totp_last_step", fields.BigIntField(null=True)),
            ],
            options={"table": "users", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BackupCode",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="backup_codes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("code_hash", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "backup_codes",
                "app": "provider",
                "unique_together": (("user_id", "code_hash"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Consent",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="consents",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("client_id", fields.CharField(max_length=128)),
                (
                    "scopes",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "consents",
                "app": "provider",
                "unique_together": (("user_id", "client_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OneTimeToken",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("purpose", fields.CharField(max_length=32)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="one_time_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "data",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "expires_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "one_time_tokens", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Session",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_active_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "expires_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("auth_time", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "amr",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("acr", fields.CharField(default="", max_length=64)),
                ("ip", fields.CharField(default="", max_length=64)),
                ("user_agent", fields.CharField(default="", max_length=512)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_reason", fields.CharField(null=True, max_length=64)),
                (
                    "compromised_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("cookie_hash", fields.CharField(null=True, unique=True, max_length=64)),
            ],
            options={
                "table": "sessions",
                "app": "provider",
                "indexes": [Index(fields=["user_id", "revoked_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuthorizationCode",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("code_hash", fields.CharField(unique=True, max_length=64)),
                ("client_id", fields.CharField(max_length=128)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="authorization_codes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "session",
                    fields.ForeignKeyField(
                        "provider.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="authorization_codes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("redirect_uri", fields.CharField(max_length=2048)),
                ("scope", fields.CharField(max_length=1024)),
                ("nonce", fields.CharField(null=True, max_length=512)),
                ("code_challenge", fields.CharField(null=True, max_length=128)),
                ("auth_time", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "amr",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("acr", fields.CharField(default="", max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "expires_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("issued_family_id", fields.UUIDField(null=True)),
                ("issued_access_jti", fields.CharField(null=True, max_length=64)),
            ],
            options={"table": "authorization_codes", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RefreshToken",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("family_id", fields.UUIDField(db_index=True)),
                ("parent_id", fields.UUIDField(null=True)),
                (
                    "session",
                    fields.ForeignKeyField(
                        "provider.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="refresh_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("user_id", fields.UUIDField(db_index=True)),
                ("client_id", fields.CharField(max_length=128)),
                ("scope", fields.CharField(default="", max_length=1024)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "expires_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("family_expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_reason", fields.CharField(null=True, max_length=64)),
            ],
            options={"table": "refresh_tokens", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
