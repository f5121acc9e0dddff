from __future__ import annotations

import importlib

from django.db import migrations

# The same confusion fold and index kind as 0005 (and webapp/review/plates.py), over the plate a
# gate passage voted for; the plate search's PASSAGE_EXPR must stay identical to this expression.
_0005 = importlib.import_module("webapp.review.migrations.0005_plate_search_indexes")

INDEXES = {
    "review_passage_plate_trgm": (
        "gates_passage",
        _0005._fold("voted_plate::text"),
        "WHERE voted_plate <> ''",
    ),
}


def create_indexes(apps, schema_editor):
    _0005.create_trigram_indexes(schema_editor, INDEXES)


def drop_indexes(apps, schema_editor):
    _0005.drop_trigram_indexes(schema_editor, INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("gates", "0001_initial"),
        ("review", "0006_auditentry_flag_in_checks"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
