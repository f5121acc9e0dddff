"""Database loading of parsed register rows: PostgreSQL ``COPY`` + merge, or batched ORM inserts.

Both loaders take an iterator of ``RegisterRow`` values and return how many rows were new; a row
whose ``row_hash`` is already stored is skipped, which is what makes re-importing a file a no-op.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.db import connection, connections, transaction
from django.db.backends.utils import CursorWrapper

from registry.importers import RegisterRow
from registry.models import ImportRun, RegisterRecord

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

# Rows per COPY + merge round: big enough that the merge's fixed cost is noise, small enough
# that the temp table stays in temp_buffers and a crash loses at most one round.
COPY_CHUNK_ROWS = 200_000
# The merge sorts a round by line so ids follow file order; this keeps that sort in memory.
MERGE_WORK_MEM = "256MB"
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


def _merge_sql(table: str) -> str:
    names = ", ".join(_COLUMNS)
    return (
        f"INSERT INTO {RegisterRecord._meta.db_table} ({names}, source_variant, import_run_id) "
        f"SELECT {', '.join(_merge_select_sql(n) for n in _COLUMNS)}, %s, %s "
        f"FROM {table} ORDER BY line "
        "ON CONFLICT (row_hash) DO NOTHING"
    )


def _copy_sql(table: str) -> str:
    return f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN"


def load_postgres(*, rows: Iterable[RegisterRow], run: ImportRun, variant: str) -> int:
    """Stream rows through COPY into a staging table, then merge with ON CONFLICT DO NOTHING.

    Outside a transaction (the command, the bench) the merge of one round runs on a second
    connection while the next round is parsed and copied: parsing is Python's core, merging is
    PostgreSQL's. Inside a transaction (tests) everything runs on the one connection.
    """
    if connection.in_atomic_block:
        return _load_serial(rows=iter(rows), run=run, variant=variant)
    return _load_pipelined(rows=iter(rows), run=run, variant=variant)


def _stage_columns() -> str:
    return ", ".join(_stage_column_sql(column) for column in _COLUMNS)


def _load_serial(*, rows: Iterator[RegisterRow], run: ImportRun, variant: str) -> int:
    inserted = 0
    with connection.cursor() as cursor:
        # Temp tables are never WAL-logged, which is most of what makes the staging step cheap.
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS registry_stage ({_stage_columns()})")
        while True:
            cursor.execute("TRUNCATE registry_stage")
            if not _copy_chunk(cursor.cursor, _copy_sql("registry_stage"), rows):
                break
            inserted += _merge(cursor, "registry_stage", variant, run)
        cursor.execute("DROP TABLE IF EXISTS registry_stage")
    return inserted


def _merge(cursor: CursorWrapper, table: str, variant: str, run: ImportRun) -> int:
    started = time.perf_counter()
    cursor.execute("SELECT set_config('work_mem', %s, true)", [MERGE_WORK_MEM])
    cursor.execute(_merge_sql(table), [variant, run.pk])
    # Only one merge is ever in flight, so this thread is the only writer of the counter.
    run.merge_seconds += time.perf_counter() - started
    return int(cursor.rowcount)


def _merge_in_thread(table: str, variant: str, run: ImportRun) -> int:
    with transaction.atomic(), connection.cursor() as cursor:  # this thread's own connection
        return _merge(cursor, table, variant, run)


def _load_pipelined(*, rows: Iterator[RegisterRow], run: ImportRun, variant: str) -> int:
    # Two unlogged tables used in turn: one is being filled while the other is merged.
    tables = [f"registry_stage_{run.pk}_{side}" for side in (0, 1)]
    inserted = 0
    pending: Future[int] | None = None
    with ThreadPoolExecutor(max_workers=1) as pool, connection.cursor() as cursor:
        try:
            for table in tables:
                cursor.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS {table} ({_stage_columns()})")
            for round_number in itertools.count():
                table = tables[round_number % 2]
                cursor.execute(f"TRUNCATE {table}")
                copied = _copy_chunk(cursor.cursor, _copy_sql(table), rows)
                if pending is not None:
                    inserted += pending.result()  # keeps merges, and so ids, in file order
                    pending = None
                if not copied:
                    break
                pending = pool.submit(_merge_in_thread, table, variant, run)
        finally:
            if pending is not None:
                pending.result()
            pool.submit(connections.close_all).result()
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return inserted


def _copy_chunk(raw_cursor: psycopg.Cursor[Any], copy_sql: str, rows: Iterator[RegisterRow]) -> int:
    count = 0
    with raw_cursor.copy(copy_sql) as copy:
        write_row = copy.write_row  # psycopg's C formatter escapes and buffers
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
