"""AuditEntry.flag now points at checks.Flag: the same table (listings_flag), so no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0005_plate_search_indexes"),
        ("checks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="flag",
                    field=models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="audit_entries",
                        to="checks.flag",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
