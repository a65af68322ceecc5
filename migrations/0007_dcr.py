from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("provider", "0006_resources")]

    initial = False

    operations = [
        ops.CreateModel(
            name="InitialAccessToken",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("note", fields.CharField(default="", max_length=200)),
                ("uses_left", fields.IntField()),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("created_by", fields.CharField(default="", max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "initial_access_tokens", "app": "provider", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Client",
            name="client_metadata",
            field=fields.JSONField(
                null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.AddField(
            model_name="Client",
            name="registration",
            field=fields.CharField(default="admin", db_default="admin", max_length=24),
        ),
        ops.AddField(
            model_name="Client",
            name="registration_token_hash",
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
