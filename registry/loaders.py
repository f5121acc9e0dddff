"""Database loading of parsed register rows: PostgreSQL ``COPY`` + merge, or batched ORM inserts.

Both loaders take an iterator of ``RegisterRow`` values and return how many rows were new; a row
whose ``row_hash`` is already stored is skipped, which is what makes re-importing a file a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import connection

from registry.importers import RegisterRow
from registry.models import ImportRun, RegisterRecord

logger = logging.getLogger(__name__)

# Rows per COPY + merge round: big enough that the merge's fixed cost is noise, small enough
# that the temp table stays in temp_buffers and a crash loses at most one round.
COPY_CHUNK_ROWS = 200_000
# Rows per INSERT on SQLite (the demo): under SQLite's 32k bound-variable limit at 27 columns.
ORM_BATCH_ROWS = 1_000

# RegisterRow fields are named after RegisterRecord columns and ordered for COPY.
_COLUMNS: tuple[str, ...] = RegisterRow._fields


def _stage_column_sql(field_name: str) -> str:
    field = RegisterRecord._meta.get_field(field_name)
    if field.get_internal_type() == "CharField":
        return f"{field.column} text"  # the merge truncates, so COPY never fails on a long value
    return f"{field.column} {field.db_type(connection)}"


def _merge_select_sql(field_name: str) -> str:
    """Truncate text to the column's width in the merge, so one long value cannot fail a round."""
    field = RegisterRecord._meta.get_field(field_name)
    max_length = getattr(field, "max_length", None)
    if field.get_internal_type() == "CharField" and max_length:
        return f"left({field.column}, {max_length})"
    return field.column


def load_postgres(*, rows: Iterable[RegisterRow], run: ImportRun, variant: str) -> int:
    """Stream rows through COPY into a temp table, then merge with ON CONFLICT DO NOTHING."""
    names = list(_COLUMNS)
    stage_columns = ", ".join(_stage_column_sql(column) for column in names)
    copy_sql = f"COPY registry_stage ({', '.join(names)}) FROM STDIN"
    merge_sql = (
        f"INSERT INTO {RegisterRecord._meta.db_table} "
        f"({', '.join(names)}, source_variant, import_run_id) "
        f"SELECT {', '.join(_merge_select_sql(n) for n in names)}, %s, %s "
        "FROM registry_stage ORDER BY line "
        "ON CONFLICT (row_hash) DO NOTHING"
    )
    inserted = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        # Temp tables are never WAL-logged, which is most of what makes the staging step cheap.
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS registry_stage ({stage_columns})")
        raw = cursor.cursor
        while True:
            cursor.execute("TRUNCATE registry_stage")
            copied = _copy_chunk(raw, copy_sql, iterator)
            if not copied:
                break
            cursor.execute(merge_sql, [variant, run.pk])
            inserted += cursor.rowcount
            logger.debug("merged %d rows, %d new", copied, cursor.rowcount)
        cursor.execute("DROP TABLE IF EXISTS registry_stage")
    return inserted


def _copy_chunk(raw_cursor: object, copy_sql: str, rows: Iterator[RegisterRow]) -> int:
    count = 0
    with raw_cursor.copy(copy_sql) as copy:  # type: ignore[attr-defined]
        write_row = copy.write_row
        for row in islice(rows, COPY_CHUNK_ROWS):
            write_row(row)
            count += 1
    return count


def load_orm(*, rows: Iterable[RegisterRow], run: ImportRun, variant: str) -> int:
    """Portable fallback (SQLite demo): batched bulk_create that ignores known row hashes."""
    before = RegisterRecord.objects.filter(import_run=run).count()
    iterator = iter(rows)
    while batch := list(islice(iterator, ORM_BATCH_ROWS)):
        RegisterRecord.objects.bulk_create(
            [
                RegisterRecord(
                    **row._asdict(),
                    source_variant=variant,
                    import_run=run,
                )
                for row in batch
            ],
            ignore_conflicts=True,
        )
    return RegisterRecord.objects.filter(import_run=run).count() - before


def load_rows(*, rows: Iterable[RegisterRow], run: ImportRun, variant: str) -> int:
    if connection.vendor == "postgresql":
        return load_postgres(rows=rows, run=run, variant=variant)
    return load_orm(rows=rows, run=run, variant=variant)
