from __future__ import annotations

from django.db import migrations

# Two indexes on listings_flag that only the review queue needs, kept here (not in Flag.Meta)
# so the listings app's model state stays exactly as its owner defined it.
INDEXES = {
    # Covers the per-kind / per-format counts of the queue sidebar as an index-only scan,
    # including the severity and date filters.
    "review_flag_counts_idx": "(status, kind, plate_format) INCLUDE (severity, created_at)",
    # Queue order when the status filter is "any status".
    "review_flag_order_idx": "(severity DESC, created_at, id)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON listings_flag {columns}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("review", "0003_flag_plate_key_index")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
