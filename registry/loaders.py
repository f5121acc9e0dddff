"""Loading a register source into PostgreSQL inside the caller's transaction.

Fast path (a clean file): the bytes go straight into ``COPY ... (FORMAT csv)`` into a temporary
table of text columns, and the rows are checked, normalised and merged by one ``INSERT ...
SELECT`` in SQL. Python only maps the few thousand distinct (brand, model) and colour values
and converts the rows SQL's checks do not accept (for their exact reject reason, or for the
rare value only Python normalises). A file PostgreSQL's CSV reader refuses (a wrong column
count, a stray quote, a bad byte, a record over several lines) is rolled back to a savepoint and
read line by line by ``registry.importers`` instead, which turns each bad line into a reject.

Either way new rows are merged with ``ON CONFLICT (row_hash) DO NOTHING`` (re-importing is a
no-op) and the plate and VIN of every new row land in the temp table ``registry_changed``, from
which the caller finds the listings to cross-check again. Nothing commits here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

import psycopg
from django.db import connection, transaction

from registry.importers import (
    ALL_COLUMNS,
    RAW_TEXT_LIMIT,
    RegisterRow,
    RegisterSource,
    Reject,
    convert_fields,
    parse_line,
)
from registry.models import ImportRun, RegisterRecord
from registry.normalise import (
    PLATE_LATIN_SQL,
    VIN_SQL,
    date_parts_sql,
    normalise_colour,
    register_make_model,
)

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

logger = logging.getLogger(__name__)

COPY_BUFFER = 1 << 20
COPY_CHUNK_ROWS = 200_000  # rows per COPY round of the line-by-line path
ORM_BATCH_ROWS = 1_000  # rows per INSERT on SQLite (the demo)
PROGRESS_EVERY_ROWS = 10_000  # the line-by-line path reports its progress this often
MERGE_WORK_MEM = "256MB"
_PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1251": "WIN1251"}
_COLUMNS: tuple[str, ...] = RegisterRow._fields
_NUMBER_COLUMNS = ("OPER_CODE", "MAKE_YEAR", "CAPACITY", "OWN_WEIGHT", "TOTAL_WEIGHT")


class _NotClean(Exception):
    """The fast path cannot read this file exactly as the line reader would."""


@dataclass
class Loaded:
    valid: int = 0
    inserted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    fast: bool = False


# Called now and then with (lines read, bytes read) of the source being loaded: the live
# progress an operator sees (registry/progress.py). Lines, not rows: the count is what was read.
Progress = Callable[[int, int], None]


def _no_progress(lines: int, bytes_read: int) -> None:
    return None


def prepare(cursor: CursorWrapper) -> None:
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS registry_changed (plate_latin text, vin text) "
        "ON COMMIT DROP"
    )
    cursor.execute("SELECT set_config('work_mem', %s, true)", [MERGE_WORK_MEM])
    # Each row's lateral values are computed once (OFFSET 0); a memo cache of them, keyed on
    # rows that never repeat, only costs hashing and memory.
    cursor.execute("SELECT set_config('enable_memoize', 'off', true)")


def start_import() -> None:
    """An empty list of changed keys for this import (a caller's transaction may hold an older
    import's: ON COMMIT DROP only fires at the outermost commit)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        prepare(cursor)
        cursor.execute("TRUNCATE registry_changed")


def load_source(
    *, source: RegisterSource, run: ImportRun, variant: str, progress: Progress = _no_progress
) -> Loaded:
    with connection.cursor() as cursor:
        prepare(cursor)
        try:
            with transaction.atomic():  # a savepoint: a refused COPY leaves nothing behind
                return _load_fast(
                    cursor, source=source, run=run, variant=variant, progress=progress
                )
        except (_NotClean, psycopg.DataError, psycopg.errors.BadCopyFileFormat) as exc:
            logger.info("%s: read line by line (%s)", source.name, str(exc).splitlines()[0])
        return _load_lines(cursor, source=source, run=run, variant=variant, progress=progress)


# --- fast path -----------------------------------------------------------------------------


def _raw_column(source: RegisterSource, name: str) -> str:
    """The raw text column holding `name` ('' for a column this variant lacks)."""
    if name in source.columns:
        return f"r.c{source.columns.index(name)}"  # never NULL: FORCE_NOT_NULL in the COPY
    return "''"


def _load_fast(
    cursor: CursorWrapper,
    *,
    source: RegisterSource,
    run: ImportRun,
    variant: str,
    progress: Progress = _no_progress,
) -> Loaded:
    started = time.perf_counter()
    columns = ", ".join(f"c{i} text" for i in range(len(source.columns)))
    cursor.execute("DROP TABLE IF EXISTS registry_raw")
    cursor.execute(f"CREATE TEMP TABLE registry_raw (line bigint, {columns}) ON COMMIT DROP")
    names = ", ".join(f"c{i}" for i in range(len(source.columns)))
    encoding = _PG_ENCODINGS[source.encoding]
    copy_sql = (
        f"COPY registry_raw (line, {names}) FROM STDIN "
        f"(FORMAT csv, DELIMITER ';', ENCODING '{encoding}', FORCE_NOT_NULL ({names}))"
    )
    with cursor.cursor.copy(copy_sql) as copy:
        suspects = _copy_lines(source, copy.write, progress)
    copied = time.perf_counter()
    result = Loaded(fast=True)
    cursor.execute("ANALYZE registry_raw")  # row counts, so the joins below are hashed
    _map_tables(cursor, source)
    fixed = list(_convert_refused(cursor, source, result))
    result.inserted = _merge_raw(cursor, source=source, run=run, variant=variant)
    cursor.execute("SELECT count(*) FROM registry_raw")
    total = int(cursor.fetchone()[0])
    refused_by_sql = len(fixed) + len(result.rejects)
    valid = total - len(result.rejects)
    for number, raw in suspects:
        item = parse_line(source, number, raw)
        if isinstance(item, Reject):
            result.rejects.append(item)
        elif item is not None:
            fixed.append(item)
            valid += 1
    fixed.sort(key=lambda row: row.line)
    result.rejects.sort(key=lambda reject: reject.line)
    result.inserted += _merge_rows(cursor, iter(fixed), run=run, variant=variant)
    result.valid = valid
    run.merge_seconds += time.perf_counter() - copied
    logger.info(
        "%s: COPY %.1fs, check+merge %.1fs, %d lines to Python, %d rows refused by SQL",
        source.name, copied - started, time.perf_counter() - copied, len(suspects), refused_by_sql,
    )  # fmt: skip
    return result


def _copy_lines(
    source: RegisterSource, write: Callable[[bytes], object], progress: Progress = _no_progress
) -> list[tuple[int, bytes]]:
    """Send PostgreSQL every line that looks like a clean record, numbered; return the others.

    The checks are byte counts (cheap in C): even quotes, no NUL, decodable, and exactly one
    separator fewer than columns. A quoted separator, a stray quote or a bad byte sends the
    line to Python, which reads it as the line reader would (a row or a reject).
    """
    separators = len(source.columns) - 1
    encoding = source.encoding
    suspects: list[tuple[int, bytes]] = []
    buffer: list[bytes] = []
    size = 0
    source.bytes_read = 0
    with source.opener() as stream:
        for number, raw in enumerate(stream, start=1):
            source.bytes_read += len(raw)
            line = raw.rstrip(b"\r\n")
            if number == 1 or not line:
                continue  # the header; blank lines are skipped as the line reader does
            if (
                line.count(b";") != separators
                or line.count(b'"') % 2
                or b"\x00" in line
                or not _decodes(line, encoding)
            ):
                suspects.append((number, raw))
                continue
            buffer.append(b"%d;%s\n" % (number, line))
            size += len(line)
            if size >= COPY_BUFFER:
                write(b"".join(buffer))
                buffer, size = [], 0
                progress(number, source.bytes_read)
    if buffer:
        write(b"".join(buffer))
    return suspects


def _decodes(line: bytes, encoding: str) -> bool:
    if line.isascii():
        return True
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _map_tables(cursor: CursorWrapper, source: RegisterSource) -> None:
    """Python's make/model and colour keys for each distinct value (thousands, not millions)."""
    brand, model = _raw_column(source, "BRAND"), _raw_column(source, "MODEL")
    colour = _raw_column(source, "COLOR")
    cursor.execute("DROP TABLE IF EXISTS registry_map_model, registry_map_colour")
    cursor.execute(
        "CREATE TEMP TABLE registry_map_model (brand text, model text, make_norm text, "
        "model_norm text, PRIMARY KEY (brand, model)) ON COMMIT DROP"
    )
    cursor.execute(
        "CREATE TEMP TABLE registry_map_colour (colour text PRIMARY KEY, canonical text) "
        "ON COMMIT DROP"
    )
    cursor.execute(f"SELECT DISTINCT {brand}, {model} FROM registry_raw r")
    pairs = cursor.fetchall()
    with cursor.cursor.copy("COPY registry_map_model FROM STDIN") as copy:
        for b, m in pairs:
            copy.write_row((b, m, *register_make_model(b, m)))
    cursor.execute(f"SELECT DISTINCT {colour} FROM registry_raw r")
    colours = cursor.fetchall()
    with cursor.cursor.copy("COPY registry_map_colour FROM STDIN") as copy:
        for (c,) in colours:
            copy.write_row((c, normalise_colour(c)))
    cursor.execute("ANALYZE registry_map_model")
    cursor.execute("ANALYZE registry_map_colour")


def _digits_sql(expression: str, max_len: int) -> str:
    """True for 1..max_len ASCII digits: translate() instead of a regex (several times faster
    per row, and a import checks millions)."""
    return (
        f"(length({expression}) BETWEEN 1 AND {max_len} "
        f"AND translate({expression}, '0123456789', '') = '')"
    )


def _checks_sql(source: RegisterSource) -> tuple[str, str, dict[str, str]]:
    """Lateral subqueries of typed values and of the check, and the SQL of each field.

    `ok` is true only for rows SQL converts exactly as ``registry.importers`` would; every
    other row goes to Python, which rejects it with its reason or converts it. The values'
    lateral ends in OFFSET 0 so PostgreSQL computes it once per row instead of inlining it
    into every place that uses its values.
    """
    raw = {name: _raw_column(source, name) for name in ALL_COLUMNS}
    day, month, year = date_parts_sql(raw["D_REG"], source.date_format)
    present = [name for name in _NUMBER_COLUMNS if name in source.columns]
    # A column the variant lacks is NULL outright: PostgreSQL would fold ''::int and fail.
    numbers = ", ".join(
        f"CASE WHEN {_digits_sql(raw[name], 9)} THEN {raw[name]}::int END AS n_{name.lower()}"
        if name in present
        else f"NULL::int AS n_{name.lower()}"
        for name in _NUMBER_COLUMNS
    )
    int_ok = " AND ".join(
        [f"({raw[n]} = '' OR n.n_{n.lower()} IS NOT NULL)" for n in present] or ["true"]
    )
    plate = PLATE_LATIN_SQL.format(raw["N_REG_NEW"])
    lateral = f"""CROSS JOIN LATERAL (SELECT {day} AS dd, {month} AS mm, {year} AS yy,
            {plate} AS plate_latin, {numbers} OFFSET 0) n"""
    check = f"""CROSS JOIN LATERAL (SELECT coalesce(
            n.yy >= 1 AND n.dd BETWEEN 1 AND CASE
                WHEN n.mm IN (1, 3, 5, 7, 8, 10, 12) THEN 31
                WHEN n.mm IN (4, 6, 9, 11) THEN 30
                WHEN n.mm = 2 AND n.yy % 4 = 0 AND (n.yy % 100 <> 0 OR n.yy % 400 = 0) THEN 29
                WHEN n.mm = 2 THEN 28
                ELSE 0 END
            AND {int_ok}
            AND (n.n_make_year IS NULL OR n.n_make_year BETWEEN 1900 AND n.yy + 1)
            AND translate(n.plate_latin, '{_ALNUM}', '') = ''
            AND {raw["VIN"]} ~ '^[\x01-\x7f]*$', false) AS ok) k"""
    return lateral, check, _values_sql(raw)


def _values_sql(raw: dict[str, str]) -> dict[str, str]:
    """The SQL of each stored field, over the raw columns and the two laterals (n, k)."""
    hashed = " || chr(31) || ".join(raw[name] for name in ALL_COLUMNS)
    return {
        "plate": raw["N_REG_NEW"],
        "plate_latin": "n.plate_latin",
        "vin": VIN_SQL.format(raw["VIN"]),
        "brand": raw["BRAND"],
        "model": raw["MODEL"],
        "make_norm": "mm.make_norm",
        "model_norm": "mm.model_norm",
        "colour": raw["COLOR"],
        "colour_canonical": "mc.canonical",
        "make_year": "n.n_make_year",
        "d_reg": "make_date(n.yy, n.mm, n.dd)",
        "oper_code": "n.n_oper_code",
        "oper_name": raw["OPER_NAME"],
        "dep_code": raw["DEP_CODE"],
        "dep": raw["DEP"],
        "kind": raw["KIND"],
        "body": raw["BODY"],
        "purpose": raw["PURPOSE"],
        "fuel": raw["FUEL"],
        "capacity": "n.n_capacity",
        "own_weight": "n.n_own_weight",
        "total_weight": "n.n_total_weight",
        "person": raw["PERSON"],
        "koatuu": raw["REG_ADDR_KOATUU"],
        "line": "r.line",
        "row_hash": f"md5({hashed})::uuid",
    }


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _width(name: str, expression: str) -> str:
    """Cut text to the column's width, so one long value cannot fail the whole import."""
    model_field = RegisterRecord._meta.get_field(name)
    max_length = getattr(model_field, "max_length", None)
    if model_field.get_internal_type() == "CharField" and max_length:
        return f"left({expression}, {max_length})"
    return expression


def _insert_returning_sql(select: str) -> str:
    table = RegisterRecord._meta.db_table
    names = ", ".join(_COLUMNS)
    return (
        f"WITH ins AS (INSERT INTO {table} ({names}, source_variant, import_run_id) {select} "
        "ON CONFLICT (row_hash) DO NOTHING RETURNING plate_latin, vin), "
        "kept AS (INSERT INTO registry_changed SELECT DISTINCT plate_latin, vin FROM ins) "
        "SELECT count(*) FROM ins"
    )


def _merge_raw(
    cursor: CursorWrapper, *, source: RegisterSource, run: ImportRun, variant: str
) -> int:
    """Merge every row the check accepted (run `_convert_refused` first)."""
    lateral, _, values = _checks_sql(source)
    selected = ", ".join(_width(name, values[name]) for name in _COLUMNS)
    select = (
        f"SELECT {selected}, %s, %s FROM registry_raw r {lateral} "
        f"JOIN registry_map_model mm ON mm.brand = {values['brand']} "
        f"AND mm.model = {values['model']} "
        f"JOIN registry_map_colour mc ON mc.colour = {values['colour']} "
        "WHERE NOT EXISTS (SELECT 1 FROM registry_refused f WHERE f.line = r.line) "
        "ORDER BY r.line"
    )
    cursor.execute(_insert_returning_sql(select), [variant, run.pk])
    return int(cursor.fetchone()[0])


def _convert_refused(
    cursor: CursorWrapper, source: RegisterSource, result: Loaded
) -> Iterator[RegisterRow]:
    """Rows SQL's checks refused, through the line reader's converter: a row or a reject.

    Their line numbers are kept in `registry_refused`, so the merge skips them without
    evaluating the checks a second time.
    """
    lateral, check, _ = _checks_sql(source)
    cursor.execute("DROP TABLE IF EXISTS registry_refused")
    cursor.execute(
        "CREATE TEMP TABLE registry_refused ON COMMIT DROP AS "
        f"SELECT r.line FROM registry_raw r {lateral} {check} WHERE NOT k.ok"
    )
    cursor.execute("ANALYZE registry_refused")
    names = ", ".join(f"r.c{i}" for i in range(len(source.columns)))
    cursor.execute(
        f"SELECT r.line, {names} FROM registry_raw r JOIN registry_refused f ON f.line = r.line "
        "ORDER BY r.line"
    )
    for line, *fields in cursor.fetchall():
        converted = convert_fields(source, line, list(fields))
        if isinstance(converted, Reject):
            raw = ";".join(f'"{value}"' for value in fields)[:RAW_TEXT_LIMIT]
            result.rejects.append(converted._replace(raw=raw))
        else:
            yield converted


# --- line-by-line path -----------------------------------------------------------------------


def _load_lines(
    cursor: CursorWrapper,
    *,
    source: RegisterSource,
    run: ImportRun,
    variant: str,
    progress: Progress = _no_progress,
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
    result.inserted = _merge_rows(cursor, rows(), run=run, variant=variant)
    run.merge_seconds += time.perf_counter() - started
    return result


def _stage_column_sql(name: str) -> str:
    model_field = RegisterRecord._meta.get_field(name)
    if model_field.get_internal_type() == "CharField":
        return f"{model_field.column} text"
    return f"{model_field.column} {model_field.db_type(connection)}"


def _merge_rows(
    cursor: CursorWrapper, rows: Iterator[RegisterRow], *, run: ImportRun, variant: str
) -> int:
    """COPY typed rows into a temp table in rounds, merging each round."""
    stage = ", ".join(_stage_column_sql(name) for name in _COLUMNS)
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS registry_stage ({stage}) ON COMMIT DROP")
    names = ", ".join(_COLUMNS)
    selected = ", ".join(_width(name, name) for name in _COLUMNS)
    merge = _insert_returning_sql(f"SELECT {selected}, %s, %s FROM registry_stage ORDER BY line")
    inserted = 0
    while True:
        cursor.execute("TRUNCATE registry_stage")
        count = 0
        with cursor.cursor.copy(f"COPY registry_stage ({names}) FROM STDIN") as copy:
            for row in islice(rows, COPY_CHUNK_ROWS):
                copy.write_row(row)
                count += 1
        if not count:
            return inserted
        cursor.execute(merge, [variant, run.pk])
        inserted += int(cursor.fetchone()[0])


# --- SQLite (the demo) -----------------------------------------------------------------------


def load_orm(*, source: RegisterSource, run: ImportRun, variant: str) -> Loaded:
    """Portable fallback: batched bulk_create that ignores known row hashes."""
    result = Loaded()
    before = RegisterRecord.objects.filter(import_run=run).count()
    batch: list[RegisterRecord] = []
    for item in source.rows():
        if isinstance(item, Reject):
            result.rejects.append(item)
            continue
        result.valid += 1
        batch.append(RegisterRecord(**item._asdict(), source_variant=variant, import_run=run))
        if len(batch) >= ORM_BATCH_ROWS:
            RegisterRecord.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    RegisterRecord.objects.bulk_create(batch, ignore_conflicts=True)
    result.inserted = RegisterRecord.objects.filter(import_run=run).count() - before
    return result


def load(
    *, source: RegisterSource, run: ImportRun, variant: str, progress: Progress = _no_progress
) -> Loaded:
    if connection.vendor == "postgresql":
        return load_source(source=source, run=run, variant=variant, progress=progress)
    # SQLite (the demo): one writer at a time, so a second connection could not record progress
    # while the import's transaction is open.
    return load_orm(source=source, run=run, variant=variant)


__all__ = ["Loaded", "load", "load_orm", "load_source", "prepare", "start_import"]
