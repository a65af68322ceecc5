from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("provider", "0003_upstream_identity_providers")]

    initial = False

    operations = [
        ops.AddField(
            model_name="User",
            name="purge_after",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="User",
            name="given_name",
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name="User",
            name="family_name",
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name="User",
            name="locale",
            field=fields.CharField(null=True, max_length=35),
        ),
        ops.AddField(
            model_name="User",
            name="zoneinfo",
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name="User",
            name="picture",
            field=fields.CharField(null=True, max_length=2048),
        ),
        ops.CreateModel(
            name="AppGroup",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=128)),
                ("description", fields.CharField(default="", max_length=512)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "app_groups", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AppGroupMember",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "group",
                    fields.ForeignKeyField(
                        "provider.AppGroup",
                        source_field="group_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="members",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="app_groups",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "app_group_members",
                "app": "provider",
                "unique_together": (("group_id", "user_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AppRole",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=128)),
                ("description", fields.CharField(default="", max_length=512)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "app_roles", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AppRoleGrant",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "role",
                    fields.ForeignKeyField(
                        "provider.AppRole",
                        source_field="role_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="grants",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "provider.User",
                        source_field="user_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="app_role_grants",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "group",
                    fields.ForeignKeyField(
                        "provider.AppGroup",
                        source_field="group_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="role_grants",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "app_role_grants",
                "app": "provider",
                "unique_together": (("role_id", "user_id"), ("role_id", "group_id")),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Client",
            name="app_role_names",
            field=fields.JSONField(
                null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.AddField(
            model_name="Client",
            name="app_role_prefix",
            field=fields.CharField(default="", db_default="", max_length=128),
        ),
    ]
