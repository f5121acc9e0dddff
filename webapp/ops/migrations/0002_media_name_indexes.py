from __future__ import annotations

from django.db import migrations

# The orphaned-media sweep (webapp/ops/media.py) asks which of a batch of file names a row holds,
# once a day for every file on disk: an index on each file column makes that a probe per name.
# Kept in this app (like review's indexes) so the owners' models stay as they defined them.
INDEXES = {
    "ops_photo_image_idx": ("listings_photo", "image"),
    "ops_frame_image_idx": ("gates_frame", "image"),
}


def create_indexes(apps, schema_editor):
    # CONCURRENTLY on PostgreSQL: uploads and gate frames go on while a large table is indexed.
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {table} ({column})"
        )


def drop_indexes(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("ops", "0001_initial"),
        ("listings", "0004_flag_moved_to_checks"),
        ("gates", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
