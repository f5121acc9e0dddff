from __future__ import annotations

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# The confusion fold of webapp/review/plates.py, frozen (the same strings as 0003); the plate
# search's expressions in webapp/review/selectors/search.py must stay identical to these
# (tests/webapp/review/test_search.py checks both the strings and that the planner uses the indexes).
SQL_FROM = "OoQqDdUuIiJjLlZzSsGgTtBbАаЕеКкМмНнРрСсХхУуВвІіЇїЫыОоТтacefhkmnprvwxy -_.·|"
SQL_TO = "000000001111112255667788AAEEKKMMHHPPCCXXYY881111110077ACEFHKMNPRVWXY"


def _fold(column_sql: str) -> str:
    return f"translate({column_sql}, '{SQL_FROM}', '{SQL_TO}')"


# Trigram (GIN) indexes over folded plate texts; kept in this app (like 0003/0004) so the
# owners' models stay as they defined them. Partial where most rows have no plate.
INDEXES = {
    # The reading's text and alternatives, already folded by the database (generated column).
    "review_reading_plate_trgm": ("recognition_reading", "search_key", ""),
    "review_listing_declared_trgm": (
        "listings_listing",
        _fold("declared_plate::text"),
        "WHERE declared_plate <> ''",
    ),
    "review_register_plate_trgm": (
        "registry_registerrecord",
        _fold("plate_latin::text"),
        "WHERE plate_latin <> ''",
    ),
}


def create_trigram_indexes(schema_editor, indexes) -> None:
    """{name: (table, expression, where)} as GIN trigram indexes (PostgreSQL only)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression, where) in indexes.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (({expression}) gin_trgm_ops) {where}"
        )


def drop_trigram_indexes(schema_editor, indexes) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in indexes:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    create_trigram_indexes(schema_editor, INDEXES)


def drop_indexes(apps, schema_editor):
    drop_trigram_indexes(schema_editor, INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0001_initial"),
        ("recognition", "0002_reading_search_key"),
        ("registry", "0001_initial"),
        ("review", "0004_flag_queue_indexes"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
