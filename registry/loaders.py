"""Loading a register source into PostgreSQL inside the caller's transaction.

Fast path (a clean file): the bytes go straight into ``COPY ... (FORMAT csv)`` into a temporary
table of text columns, and the rows are checked, normalised and merged by one ``INSERT ...
SELECT`` in SQL. Python only maps the few thousand distinct (brand, model) and colour values
and converts the rows SQL's checks do not accept (for their exact reject reason, or for the
rare value only Python normalises). A file PostgreSQL's CSV reader refuses (a wrong column
count, a stray quote, a bad byte, a record over several lines) is rolled back to a savepoint and
read line by line by ``registry.importers`` instead, which turns each bad line into a reject.

Either way the typed rows gather in a staging table and are merged into the run's own partition
(``registry.partitions``), without the row hashes the register already holds (re-importing is a
no-op); ``finish_import`` indexes and attaches it, and the caller finds the listings to
cross-check again from the run's rows (``import_run_id``: the run's partition, by its indexes).
Nothing commits here.

The staging tables (``Stage``) are UNLOGGED tables of the run's own, not temp tables: no parallel
worker may read a temp table, and typing the rows is the largest share of an import's SQL (14 s
of 500,000 rows in one backend; 7-10 s with two workers, on these 2 cores). Created inside the
import's transaction, they vanish with a rollback, and each source's are dropped once merged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg
from django.db import connection, transaction

from registry import partitions, row_sql
from registry.copy_input import Progress, copy_lines, no_progress, original_lines, too_long
from registry.encodings import RegisterFormatError
from registry.importers import (
    RegisterRow,
    RegisterSource,
    Reject,
    convert_fields,
    parse_line,
    reject_text,
)
from registry.models import ImportRun, RegisterRecord
from registry.normalise import (
    normalise_colour,
    register_make_model,
)

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

logger = logging.getLogger(__name__)

PROGRESS_EVERY_ROWS = 10_000  # the line-by-line path reports its progress this often
MERGE_WORK_MEM = "256MB"
_PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1251": "WIN1251"}
_COLUMNS: tuple[str, ...] = RegisterRow._fields
# Each column's width in characters (0: not text): longer values are cut to it when staged.
_WIDTHS: tuple[int, ...] = tuple(
    getattr(RegisterRecord._meta.get_field(name), "max_length", None) or 0 for name in _COLUMNS
)


@dataclass(frozen=True)
class Stage:
    """The staging tables of one source of one run: `raw` (the file's text columns, numbered
    lines), `model` and `colour` (Python's keys for each distinct value), `parsed` (each raw
    row's dates, numbers and plate key), `typed` (the register's columns, and `ok`)."""

    raw: str
    model: str
    colour: str
    parsed: str
    typed: str

    @classmethod
    def of(cls, run: ImportRun, index: int) -> Stage:
        prefix = f"registry_stage_{int(run.pk)}_{int(index)}"
        parts = ("raw", "model", "colour", "parsed", "typed")
        return cls(*(f"{prefix}_{part}" for part in parts))

    def drop(self, cursor: CursorWrapper) -> None:
        cursor.execute(
            f"DROP TABLE IF EXISTS {self.raw}, {self.model}, {self.colour}, {self.parsed}, "
            f"{self.typed}"
        )


class _NotClean(Exception):
    """The fast path cannot read this file exactly as the line reader would."""


@dataclass
class Loaded:
    valid: int = 0
    inserted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    fast: bool = False


def prepare(cursor: CursorWrapper) -> None:
    cursor.execute("SELECT set_config('work_mem', %s, true)", [MERGE_WORK_MEM])
    # A memo cache of a lateral's values, keyed on rows that never repeat, only costs hashing
    # and memory.
    cursor.execute("SELECT set_config('enable_memoize', 'off', true)")
    # JIT compiling the checks took 0.8 s of each merge of 500,000 rows and saved less.
    cursor.execute("SELECT set_config('jit', 'off', true)")
    # The staging tables' rows are checked and typed by parallel workers: each row costs far
    # more than the planner's default guess, so a worker always pays for its start.
    cursor.execute("SELECT set_config('parallel_setup_cost', '10', true)")
    cursor.execute("SELECT set_config('parallel_tuple_cost', '0.001', true)")
    # The staging tables are analysed for their row counts and key spreads (so that the joins are
    # hashed): 3,000 sampled rows tell that as well as 30,000, in a tenth of the time.
    cursor.execute("SELECT set_config('default_statistics_target', '10', true)")


def start_import(run: ImportRun) -> None:
    """The run's empty table (PostgreSQL), in the caller's transaction."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        prepare(cursor)
        partitions.create(cursor, run.pk)


def finish_import(run: ImportRun) -> None:
    """The run's rows join the register: its table indexed and attached (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        partitions.attach(cursor, run.pk)
    seconds = time.perf_counter() - started
    run.merge_seconds += seconds
    logger.info("%s: indexed and attached in %.1fs", run.file_name, seconds)


def load_source(
    *,
    source: RegisterSource,
    run: ImportRun,
    variant: str,
    progress: Progress = no_progress,
    index: int = 0,
) -> Loaded:
    """Load one source of the run (`index`: its place among the run's files)."""
    with connection.cursor() as cursor:
        prepare(cursor)
        try:
            with transaction.atomic():  # a savepoint: a refused COPY leaves nothing behind
                return _load_fast(
                    cursor, source=source, run=run, variant=variant, progress=progress, index=index
                )
        except (_NotClean, psycopg.DataError, psycopg.errors.BadCopyFileFormat) as exc:
            logger.info("%s: read line by line (%s)", source.name, str(exc).splitlines()[0])
        return _load_lines(
            cursor, source=source, run=run, variant=variant, progress=progress, index=index
        )


# --- fast path -----------------------------------------------------------------------------


def _load_fast(
    cursor: CursorWrapper,
    *,
    source: RegisterSource,
    run: ImportRun,
    variant: str,
    progress: Progress = no_progress,
    index: int = 0,
) -> Loaded:
    started = time.perf_counter()
    stage = Stage.of(run, index)
    stage.drop(cursor)
    columns = ", ".join(f"c{i} text" for i in range(len(source.columns)))
    cursor.execute(f"CREATE UNLOGGED TABLE {stage.raw} (line bigint, {columns})")
    names = ", ".join(f"c{i}" for i in range(len(source.columns)))
    encoding = _PG_ENCODINGS[source.encoding]
    copy_sql = (
        f"COPY {stage.raw} (line, {names}) FROM STDIN "
        f"(FORMAT csv, DELIMITER ';', ENCODING '{encoding}', FORCE_NOT_NULL ({names}))"
    )
    with cursor.cursor.copy(copy_sql) as copy:
        lines = copy_lines(source, copy.write, progress)
    copied = time.perf_counter()
    result = Loaded(fast=True)
    cursor.execute(f"ANALYZE {stage.raw}")  # row counts, so the joins below are hashed
    _map_tables(cursor, source, stage)
    total = _type_raw(cursor, source, stage)
    fixed = list(_convert_refused(cursor, source, stage, result))
    if result.rejects:  # their text is the line as the file holds it, as the line reader's is
        originals = original_lines(source, [r.line for r in result.rejects], lines.marks)
        result.rejects = [
            r._replace(raw=reject_text(source, originals[r.line])) for r in result.rejects
        ]
    refused_by_sql = len(fixed) + len(result.rejects)
    valid = total - len(result.rejects)
    for number, raw in lines.suspects:
        item = parse_line(source, number, raw)
        if isinstance(item, Reject):
            result.rejects.append(item)
        elif item is not None:
            fixed.append(item)
            valid += 1
    result.rejects.sort(key=lambda reject: reject.line)
    _stage_rows(cursor, source, stage, iter(fixed))
    result.inserted = _merge_typed(cursor, stage, run=run, variant=variant, index=index)
    stage.drop(cursor)
    result.valid = valid
    run.merge_seconds += time.perf_counter() - copied
    logger.info(
        "%s: COPY %.1fs, check+merge %.1fs, %d lines to Python, %d rows refused by SQL",
        source.name, copied - started, time.perf_counter() - copied, len(lines.suspects),
        refused_by_sql,
    )  # fmt: skip
    return result


def _map_tables(cursor: CursorWrapper, source: RegisterSource, stage: Stage) -> None:
    """Python's make/model and colour keys for each distinct value (thousands, not millions)."""
    brand, model = row_sql.raw_column(source, "BRAND"), row_sql.raw_column(source, "MODEL")
    colour = row_sql.raw_column(source, "COLOR")
    cursor.execute(
        f"CREATE UNLOGGED TABLE {stage.model} (brand text, model text, make_norm text, "
        "model_norm text, PRIMARY KEY (brand, model))"
    )
    cursor.execute(
        f"CREATE UNLOGGED TABLE {stage.colour} (colour text PRIMARY KEY, canonical text)"
    )
    cursor.execute(f"SELECT DISTINCT {brand}, {model} FROM {stage.raw} r")
    pairs = cursor.fetchall()
    with cursor.cursor.copy(f"COPY {stage.model} FROM STDIN") as copy:
        for b, m in pairs:
            copy.write_row((b, m, *register_make_model(b, m)))
    cursor.execute(f"SELECT DISTINCT {colour} FROM {stage.raw} r")
    colours = cursor.fetchall()
    with cursor.cursor.copy(f"COPY {stage.colour} FROM STDIN") as copy:
        for (c,) in colours:
            copy.write_row((c, normalise_colour(c)))
    cursor.execute(f"ANALYZE {stage.model}")
    cursor.execute(f"ANALYZE {stage.colour}")


def _typed_columns() -> dict[str, str]:
    """The register's columns and their staging types: text as the register's own
    `varchar(n)`, so the merge copies it without a length check per value (numbers wide enough
    for any row a check refuses)."""
    types = {}
    for column, width in zip(_COLUMNS, _WIDTHS, strict=True):
        internal = RegisterRecord._meta.get_field(column).get_internal_type()
        types[column] = {
            "CharField": f"varchar({width})" if width else "text",
            "DateField": "date",
            "UUIDField": "uuid",
        }.get(internal, "bigint")
    return types


def _typed_table(cursor: CursorWrapper, stage: Stage) -> None:
    """`stage.typed`, empty: the register's columns and `ok`, true for the rows to merge (the
    line-by-line path; the fast path creates it from its query)."""
    columns = ", ".join(f"{name} {kind}" for name, kind in _typed_columns().items())
    cursor.execute(f"CREATE UNLOGGED TABLE {stage.typed} ({columns}, ok boolean NOT NULL)")


def _type_raw(cursor: CursorWrapper, source: RegisterSource, stage: Stage) -> int:
    """Every raw row, checked and typed once, into `stage.typed`; returns the row count.

    `ok` is false for the rows SQL does not convert exactly as the line reader would: those go
    to Python (`_convert_refused`), and their typed values are never used.
    """
    parsed, check, values = row_sql.checks_sql(source)
    cursor.execute(
        f"CREATE UNLOGGED TABLE {stage.parsed} AS SELECT r.line, {parsed} FROM {stage.raw} r"
    )
    values = {**values, "d_reg": f"CASE WHEN k.ok THEN {values['d_reg']} END"}
    types = _typed_columns()
    # An explicit cast to varchar(n) cuts a longer value to n characters (by the workers): one
    # long value must not fail the whole import.
    selected = ", ".join(f"({values[name]})::{types[name]} AS {name}" for name in _COLUMNS)
    cursor.execute(
        f"CREATE UNLOGGED TABLE {stage.typed} AS SELECT {selected}, k.ok "
        f"FROM {stage.raw} r JOIN {stage.parsed} n ON n.line = r.line {check} "
        f"JOIN {stage.model} mm ON mm.brand = {values['brand']} "
        f"AND mm.model = {values['model']} "
        f"JOIN {stage.colour} mc ON mc.colour = {values['colour']}"
    )
    total = cursor.rowcount
    cursor.execute(f"ANALYZE {stage.typed}")
    return int(total)


def _merge_typed(
    cursor: CursorWrapper, stage: Stage, *, run: ImportRun, variant: str, index: int
) -> int:
    """Merge the `ok` rows of `stage.typed` into the run's partition; the count inserted.
    `index`: the source's place in the import (a ZIP holds several)."""
    columns = {name: f"t.{name}" for name in _COLUMNS}  # already cut to their widths
    cursor.execute(partitions.later_repeats_sql(stage.typed))
    repeats = [line for (line,) in cursor.fetchall()]
    sql = partitions.merge_sql(run.pk, index, columns, stage.typed)
    cursor.execute(sql, [variant, run.pk, repeats])
    return int(cursor.rowcount)


def _convert_refused(
    cursor: CursorWrapper, source: RegisterSource, stage: Stage, result: Loaded
) -> Iterator[RegisterRow]:
    """Rows SQL's checks refused, through the line reader's converter: a row or a reject."""
    names = ", ".join(f"r.c{i}" for i in range(len(source.columns)))
    cursor.execute(
        f"SELECT r.line, {names} FROM {stage.raw} r JOIN {stage.typed} t ON t.line = r.line "
        "WHERE NOT t.ok ORDER BY r.line"
    )
    for line, *fields in cursor.fetchall():
        converted = convert_fields(source, line, list(fields))
        if isinstance(converted, Reject):
            result.rejects.append(converted)  # its text (the line) is read by the caller
        else:
            yield converted


# --- line-by-line path -----------------------------------------------------------------------


def _load_lines(
    cursor: CursorWrapper,
    *,
    source: RegisterSource,
    run: ImportRun,
    variant: str,
    progress: Progress = no_progress,
    index: int = 0,
) -> Loaded:
    result = Loaded()

    def rows() -> Iterator[RegisterRow]:
        for index, item in enumerate(source.rows(), start=1):
            if index % PROGRESS_EVERY_ROWS == 0:
                progress(index, source.bytes_read)
            if isinstance(item, Reject):
                result.rejects.append(item)
            else:
                result.valid += 1
                yield item

    started = time.perf_counter()
    stage = Stage.of(run, index)
    stage.drop(cursor)
    _typed_table(cursor, stage)
    _stage_rows(cursor, source, stage, rows())
    cursor.execute(f"ANALYZE {stage.typed}")
    result.inserted = _merge_typed(cursor, stage, run=run, variant=variant, index=index)
    stage.drop(cursor)
    run.merge_seconds += time.perf_counter() - started
    return result


def _stage_rows(
    cursor: CursorWrapper, source: RegisterSource, stage: Stage, rows: Iterator[RegisterRow]
) -> None:
    """Typed rows of `source` from Python into `stage.typed`, to merge."""
    names = ", ".join(_COLUMNS)
    widths = _WIDTHS
    with cursor.cursor.copy(f"COPY {stage.typed} ({names}, ok) FROM STDIN") as copy:
        for row in rows:
            if row.line > partitions.MAX_LINE:
                raise RegisterFormatError(too_long(source))
            # Cut to the columns' widths: one long value must not fail the whole import.
            copy.write_row(
                [
                    value[:width] if width and isinstance(value, str) else value
                    for value, width in zip(row, widths, strict=True)
                ]
                + [True]
            )


__all__ = [
    "Loaded",
    "Progress",
    "Stage",
    "finish_import",
    "load_source",
    "prepare",
    "start_import",
]
