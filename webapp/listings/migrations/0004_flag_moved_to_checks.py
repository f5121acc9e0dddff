"""Flag now lives in the checks app (checks 0001): forget it here, keep its table and rows."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0003_photo_lease"),
        ("checks", "0001_initial"),
        ("review", "0006_auditentry_flag_in_checks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Flag")],
            database_operations=[],
        ),
    ]
