"""DRF's authtoken table held keys in plain text; the app no longer accepts them, so forget them."""

from __future__ import annotations

from django.db import migrations


def forget(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if "authtoken_token" in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
