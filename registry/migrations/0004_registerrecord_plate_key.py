"""The plate search's key of each register row, stored (see RegisterRecord.plate_key)."""

from django.db import migrations, models

import registry.models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_partition_by_import"),
    ]

    operations = [
        migrations.AddField(
            model_name="registerrecord",
            name="plate_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=registry.models.RegisterPlateKey(),
                output_field=models.TextField(),
            ),
        ),
    ]
