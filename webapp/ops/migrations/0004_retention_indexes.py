from __future__ import annotations

from django.db import migrations

# The retention purge (webapp/ops/retention.py) takes the oldest rows past a cut-off, 1,000 at a
# time: without an index on the time column each batch would read the whole table. Kept in
# this app, like 0002's, so the owners' models stay as they defined them (DeviceRequest's
# created_at has its own index already).
INDEXES = {
    "ops_frame_received_idx": ("gates_frame", "received_at"),
    "ops_delivery_created_idx": ("partners_webhookdelivery", "created_at"),
}


def create_indexes(apps, schema_editor):
    # CONCURRENTLY on PostgreSQL: frames and deliveries go on while a large table is indexed.
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
        ("ops", "0003_retention_purge"),
        ("gates", "0001_initial"),
        ("partners", "0004_webhook_redelivered_at"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
