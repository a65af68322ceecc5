from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('provider', '0002_client_introspect_any')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='given_name',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='User',
            name='family_name',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='User',
            name='locale',
            field=fields.CharField(null=True, max_length=35),
        ),
        ops.AddField(
            model_name='User',
            name='zoneinfo',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='picture',
            field=fields.CharField(null=True, max_length=2048),
        ),
    ]
