from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('provider', '0008_passkeys')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Client',
            name='logo_uri',
            field=fields.CharField(null=True, max_length=2048),
        ),
    ]
