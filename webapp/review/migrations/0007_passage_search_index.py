from __future__ import annotations

import importlib

from django.db import migrations

# The same confusion fold as 0005 (and webapp/review/plates.py), over the plate a gate passage
# voted for; the plate search's PASSAGE_EXPR must stay identical to this expression.
_FOLD = importlib.import_module("webapp.review.migrations.0005_plate_search_indexes")._fold

INDEXES = {
    "review_passage_plate_trgm": (
        "gates_passage",
        _FOLD("voted_plate::text"),
        "WHERE voted_plate <> ''",
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression, where) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (({expression}) gin_trgm_ops) {where}"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("gates", "0001_initial"),
        ("review", "0006_auditentry_flag_in_checks"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
