"""One partition of the register per import run (PostgreSQL; see migration 0003).

An import writes its new rows into a table of its own that has no index and is not yet part
of the register, so no live index is updated row by row. At the end it builds the table's
indexes in bulk and attaches it as the run's partition, in the import's transaction: the
register gains the rows all at once at commit, or (any error) the table is gone with the rest.

    create(cursor, run_id)            # the empty table, before the first row
    later_repeats_sql(typed)           # lines repeating an earlier line's row (left out)
    merge_sql(...)                     # INSERT of new rows, known row hashes dropped
    attach(cursor, run_id)             # indexes built in bulk, attached
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.models import RegisterRecord

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

TABLE = RegisterRecord._meta.db_table
# Memory for building the partition's indexes (a sort of the run's rows per index).
INDEX_BUILD_MEMORY = "256MB"


def name(run_id: int) -> str:
    return f"{TABLE}_run_{int(run_id)}"


def create(cursor: CursorWrapper, run_id: int) -> None:
    """The run's empty table: the register's columns, and a check that says which run's rows it
    holds (so attaching it needs no scan to prove it)."""
    part = name(run_id)
    _drop_stale(cursor, part)
    cursor.execute(
        f"CREATE TABLE {part} "
        f"(LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)"
    )
    cursor.execute(
        f"ALTER TABLE {part} ADD CONSTRAINT {part}_run CHECK (import_run_id = {int(run_id)})"
    )


def _drop_stale(cursor: CursorWrapper, part: str) -> None:
    """A table left under this name by a run whose id came round again (a test database reset
    with its sequences): dropped if empty; any rows in it are an error, not ours to delete."""
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [part])
    if not cursor.fetchone()[0]:
        return
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {part})")
    if cursor.fetchone()[0]:
        raise RuntimeError(f"{part} already exists and holds rows: not this run's to replace")
    cursor.execute(f"DROP TABLE {part}")


# An imported row's id is its place in the import: run, file (a ZIP holds several), line. Ids
# are then unique without a sequence (rows written by the ORM take the sequence's, far below),
# in the order the rows were imported, and computed for every row at once.
RUN_SHIFT = 36
SOURCE_SHIFT = 28
MAX_LINE = (1 << SOURCE_SHIFT) - 1  # 268 million lines in one file
MAX_SOURCES = 1 << (RUN_SHIFT - SOURCE_SHIFT)


def first_id(run_id: int, source_index: int) -> int:
    """The id of line 0 of a run's `source_index`-th file."""
    if not 0 <= source_index < MAX_SOURCES:
        raise ValueError(f"an import holds at most {MAX_SOURCES} files")
    return (int(run_id) << RUN_SHIFT) | (source_index << SOURCE_SHIFT)


def later_repeats_sql(typed: str) -> str:
    """The lines of table `typed` whose `ok` row repeats an earlier line's row hash (a file may
    hold one operation twice): only its first line is merged."""
    return (
        f"SELECT t.line FROM {typed} t JOIN (SELECT row_hash, min(line) AS first "  # noqa: S608
        f"FROM {typed} WHERE ok GROUP BY row_hash HAVING count(*) > 1) d "
        "ON d.row_hash = t.row_hash WHERE t.ok AND t.line > d.first"
    )


def merge_sql(run_id: int, source_index: int, columns: dict[str, str], typed: str) -> str:
    """INSERT into the run's table of the `ok` rows of table `typed` (alias `t`: `line`,
    `row_hash`, a boolean `ok` and what `columns` reads), without the row hashes the register
    or this run already holds, and without the lines given (`later_repeats_sql`).

    `columns`: each register column and the SQL of its value. Takes three parameters: the
    source variant, the run id and the lines to leave out (a list).
    """
    part = name(run_id)
    names = ", ".join(columns)
    values = ", ".join(columns.values())
    return (
        f"INSERT INTO {part} (id, {names}, source_variant, import_run_id) "
        f"SELECT {first_id(run_id, source_index)} + t.line, {values}, %s, %s FROM {typed} t "
        "WHERE t.ok "
        "AND NOT EXISTS (SELECT 1 FROM unnest(%s::bigint[]) d (line) WHERE d.line = t.line) "
        f"AND NOT EXISTS (SELECT 1 FROM {TABLE} r WHERE r.row_hash = t.row_hash) "
        f"AND NOT EXISTS (SELECT 1 FROM {part} p WHERE p.row_hash = t.row_hash)"
    )


def attach(cursor: CursorWrapper, run_id: int) -> None:
    """Index the run's table and attach it to the register; an empty one is dropped. The plate
    and VIN of every row are then the register's rows of the run, for the cross-check."""
    part = name(run_id)
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {part})")
    if not cursor.fetchone()[0]:
        cursor.execute(f"DROP TABLE {part}")
        return
    cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [INDEX_BUILD_MEMORY])
    # Builds each of the register's indexes on the table (sorted, in bulk) and attaches them.
    cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {part} FOR VALUES IN ({int(run_id)})")
    # Its row count and key spread, sampled (the caller's statistics target): the cross-check's
    # queries probe its indexes from the listings' side instead of hashing all its rows.
    cursor.execute(f"ANALYZE {part}")


__all__ = ["MAX_LINE", "attach", "create", "first_id", "later_repeats_sql", "merge_sql", "name"]
