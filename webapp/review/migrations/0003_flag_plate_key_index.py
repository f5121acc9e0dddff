from __future__ import annotations

from django.db import migrations

# The confusion fold of webapp/review/plates.py, frozen here: a change to the fold needs a new
# migration that re-creates the index (tests/webapp/review/test_plates.py checks they agree).
SQL_FROM = "OoQqDdUuIiJjLlZzSsGgTtBbАаЕеКкМмНнРрСсХхУуВвІіЇїЫыОоТтacefhkmnprvwxy -_.·|"
SQL_TO = "000000001111112255667788AAEEKKMMHHPPCCXXYY881111110077ACEFHKMNPRVWXY"
INDEX = "review_flag_plate_key_idx"


def _is_postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create_index(apps, schema_editor):
    if not _is_postgres(schema_editor):
        return
    # text_pattern_ops serves both equality and prefix (LIKE 'KEY%') searches.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON listings_flag "
        f"((translate(plate_text::text, %s, %s)) text_pattern_ops)",
        params=[SQL_FROM, SQL_TO],
    )


def drop_index(apps, schema_editor):
    if _is_postgres(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0001_initial"),
        ("review", "0002_moderators_group"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
