from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("provider", "0002_client_introspect_any")]

    initial = False

    operations = [
        ops.CreateModel(
            name="IdentityProvider",
            fields=[
                (
                    "slug",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32),
                ),
                ("name", fields.CharField(max_length=100)),
                ("kind", fields.CharField(max_length=8)),
                ("issuer", fields.CharField(default="", max_length=2048)),
                ("authorize_url", fields.CharField(default="", max_length=2048)),
                ("token_url", fields.CharField(default="", max_length=2048)),
                ("userinfo_url", fields.CharField(default="", max_length=2048)),
                ("emails_url", fields.CharField(default="", max_length=2048)),
                (
                    "claims",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("client_id", fields.CharField(default="", max_length=256)),
                ("client_secret_sealed", fields.CharField(default="", max_length=1024)),
                (
                    "scopes",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("enabled", fields.BooleanField(default=True)),
                ("allow_signup", fields.BooleanField(default=False)),
                ("trust_email", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "identity_providers", "app": "provider", "pk_attr": "slug"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FederatedIdentity",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "provider",
                    fields.ForeignKeyField(
                        "provider.IdentityProvider",
                        source_field="provider_id",
                        db_constraint=True,
                        to_field="slug",
                        related_name="identities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("subject", fields.CharField(max_length=255)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="federated_identities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("email", fields.CharField(default="", max_length=254)),
                ("linked_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "federated_identities",
                "app": "provider",
                "unique_together": (("provider_id", "subject"), ("provider_id", "user_id")),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
