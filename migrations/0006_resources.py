from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('provider', '0004_self_service')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ResourceServer',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('identifier', fields.CharField(unique=True, max_length=512)),
                ('name', fields.CharField(max_length=200)),
                ('scopes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('access_token_ttl', fields.IntField(null=True)),
                ('signing_alg', fields.CharField(default='RS256', max_length=16)),
                ('allowed_clients', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'resource_servers', 'app': 'provider', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuthorizationCode',
            name='resources',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='resources',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
