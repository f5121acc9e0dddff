"""The register import is one transaction: SQL's fast path, its fallbacks, and what a failure
leaves behind (nothing but a FAILED run that says why)."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

from recognition.models import CrosscheckRequest
from registry import loaders, services
from registry.importers import RegisterFormatError, RegisterRow, Reject, open_register
from registry.models import ImportReject, ImportRun, RegisterRecord
from registry.services import register_import
from tests.fixtures.factories import ListingFactory
from tests.registry.test_importers import parse

pytestmark = pytest.mark.django_db

CLEAN = [
    "register_2016.csv",
    "register_2021.csv",
    "register_2024.csv",
    "register_2024_bom.csv",
    "register_2024_cp1251.csv",
    "register_2026.csv",
    "register_2024.zip",
]
FIELDS = [name for name in loaders._COLUMNS if name != "row_hash"]


def header_and_rows(samples: Path) -> tuple[str, list[str]]:
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    return lines[0], lines[1:]


@pytest.mark.parametrize("name", CLEAN)
def test_sql_normalises_a_clean_file_exactly_as_the_line_reader(samples: Path, name: str):
    [source] = open_register(samples / name)
    expected = [row for row in source.rows() if not isinstance(row, Reject)]
    run = ImportRun.objects.create(file_name=name, file_sha256="x")
    with transaction.atomic():
        loaders.start_import(run)
        loaded = loaders.load_source(source=source, run=run, variant=str(source.variant))
        loaders.finish_import(run)
    assert loaded.fast  # PostgreSQL read it with COPY
    assert (loaded.valid, loaded.inserted, loaded.rejects) == (len(expected), len(expected), [])
    stored = list(RegisterRecord.objects.order_by("line").values(*FIELDS, "row_hash"))
    for record, row in zip(stored, expected, strict=True):
        assert {f: record[f] for f in FIELDS} == {f: getattr(row, f) for f in FIELDS}
        assert record["row_hash"].hex == row.row_hash  # the same identity on both paths


def test_broken_lines_are_read_by_python_and_the_rest_by_copy(samples: Path):
    [source] = open_register(samples / "register_malformed.csv")
    items = list(source.rows())
    expected_rejects = [(r.line, r.reason) for r in items if isinstance(r, Reject)]
    expected_rows = [r for r in items if not isinstance(r, Reject)]
    run = ImportRun.objects.create(file_name="m", file_sha256="x")
    with transaction.atomic():
        loaders.start_import(run)
        loaded = loaders.load_source(source=source, run=run, variant=str(source.variant))
        loaders.finish_import(run)
    assert loaded.fast
    assert [(r.line, r.reason) for r in loaded.rejects] == expected_rejects
    assert (loaded.valid, loaded.inserted) == (len(expected_rows), len(expected_rows))
    stored = list(RegisterRecord.objects.order_by("line").values_list("line", "row_hash"))
    assert stored == [(row.line, uuid.UUID(row.row_hash)) for row in expected_rows]


def test_bad_values_in_a_clean_csv_are_rejects_with_line_numbers(samples: Path, tmp_path: Path):
    header, rows = header_and_rows(samples)
    rows[1] = rows[1].replace("09.02.24", "31.02.24")
    rows[3] = rows[3].replace(";2018;", ";20I8;").replace(";2008;", ";20I8;")
    path = tmp_path / "values.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    rejects = list(ImportReject.objects.filter(run=run).values_list("line", "reason"))
    assert rejects[0] == (3, "bad date '31.02.24' (day is out of range for month)")
    assert rejects[1][0] == 5
    assert "MAKE_YEAR" in rejects[1][1]
    assert (run.rows_read, run.rows_inserted, run.rows_rejected) == (len(rows), len(rows) - 2, 2)


def test_a_10_mb_line_after_3000_rows_is_one_reject_and_the_rest_imports(
    samples: Path, tmp_path: Path
):
    header, rows = header_and_rows(samples)
    body = [rows[0].replace("АА1234ВВ", f"КА{n:04d}АА") for n in range(3000)]
    huge = '"P";"' + "x" * (10 << 20) + '"'  # one 10 MB field where 20 columns belong
    path = tmp_path / "huge.csv"
    path.write_text("\n".join([header, *body, huge, *rows]) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    [reject] = ImportReject.objects.filter(run=run)
    assert reject.line == 3002
    assert "field larger than field limit" in reject.reason
    assert run.status == ImportRun.Status.DONE
    assert run.rows_inserted == 3000 + len(rows) == RegisterRecord.objects.count()


def test_a_failure_mid_import_keeps_nothing_and_says_so(
    samples: Path, monkeypatch: pytest.MonkeyPatch
):
    listing = ListingFactory(declared_plate="AA1234BB")

    def broken(**kwargs: object) -> None:
        raise OSError("disk full while storing rejects")

    monkeypatch.setattr(services, "_rejects_store", broken)
    with pytest.raises(OSError, match="disk full"):
        register_import(path=samples / "register_2024.csv")
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert run.error == "disk full while storing rejects (nothing imported)"
    assert (run.rows_read, run.rows_inserted, run.rows_rejected) == (0, 0, 0)
    assert not RegisterRecord.objects.exists()
    assert not CrosscheckRequest.objects.filter(listing=listing).exists()
    assert partition_of(run) is None  # the run's table went with the rest
    # and the same file imports in full afterwards
    monkeypatch.undo()
    assert register_import(path=samples / "register_2024.csv").rows_inserted == 6


def test_upper_case_latin_1_is_not_taken_for_cp1251(samples: Path, tmp_path: Path):
    header, rows = header_and_rows(samples)
    latin = [r.replace('"TOYOTA"', '"CITROËN"').replace('"CAMRY"', '"MÉGANE"') for r in rows]
    latin = [r.replace("АА1234ВВ", "AA1234BB") for r in latin]
    text = "\n".join([header, *latin]) + "\n"
    ascii_only = "".join(ch if ord(ch) < 256 else "E" for ch in text)
    path = tmp_path / "latin1.csv"
    path.write_bytes(ascii_only.encode("latin-1"))
    with pytest.raises(RegisterFormatError, match="looks like Latin-1"):
        register_import(path=path, enqueue_crosscheck=False)
    assert not RegisterRecord.objects.exists()
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED


def test_the_rejects_export_is_safe_to_open_in_a_spreadsheet(
    samples: Path, tmp_path: Path, admin_client
):
    header, rows = header_and_rows(samples)
    formulas = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]
    path = tmp_path / "formula.csv"
    path.write_text("\n".join([header, *formulas, rows[0]]) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    assert run.rows_rejected == 4
    response = admin_client.get(reverse("admin:registry_importrun_rejects", args=[run.pk]))
    body = b"".join(response.streaming_content).decode()
    cells = [row[-1] for row in csv.reader(io.StringIO(body))][1:]
    assert cells == ["'" + formula for formula in formulas]
    for row in csv.reader(io.StringIO(body)):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def partition_of(run: ImportRun) -> tuple[str, int] | None:
    """The run's table if it is a partition of the register: (its bound, its index count)."""
    from django.db import connection

    from registry import partitions

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(c.relpartbound, c.oid), "
            "(SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid) "
            "FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid "
            "WHERE c.relname = %s AND i.inhparent = %s::regclass",
            [partitions.name(run.pk), partitions.TABLE],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def test_each_import_is_a_partition_of_its_own_with_every_index_of_the_register(samples: Path):
    from django.db import connection

    first = register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    second = register_import(path=samples / "register_2021.csv", enqueue_crosscheck=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'registry_registerrecord'::regclass"
        )
        (indexes,) = cursor.fetchone()
    assert indexes >= 5  # key, row hash, plate, VIN, plate trigrams
    for run in (first, second):
        assert partition_of(run) == (f"FOR VALUES IN ('{run.pk}')", indexes)
        ids = RegisterRecord.objects.filter(import_run=run).values_list("id", "line")
        # an imported row's id is its place in the import: run, file, line
        assert {i - line for i, line in ids} == {run.pk << 36}
    # the register reads across both
    assert RegisterRecord.objects.count() == first.rows_inserted + second.rows_inserted


def test_a_reimport_that_adds_nothing_leaves_no_partition(samples: Path):
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    again = register_import(
        path=samples / "register_2024.csv", force=True, enqueue_crosscheck=False
    )
    assert (again.rows_inserted, again.status) == (0, ImportRun.Status.DONE)
    assert partition_of(again) is None


def staging_tables() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'registry_stage_%%'")
        return [name for (name,) in cursor.fetchall()]


def test_a_row_repeated_in_a_file_is_merged_once_at_its_first_line(samples: Path, tmp_path: Path):
    header, rows = header_and_rows(samples)
    # rows 2 and 4 repeat row 1 (the file's lines 2, 4 and 6), once on each path: the clean
    # lines go through COPY, and the last copy carries a stray trailing separator, read by Python
    path = tmp_path / "repeats.csv"
    lines = [header, rows[0], rows[1], rows[0], rows[2], rows[0] + ";", *rows[3:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    assert (run.rows_read, run.rows_inserted, run.rows_duplicate) == (8, 6, 2)
    lines_kept = sorted(RegisterRecord.objects.values_list("line", flat=True))
    assert lines_kept == [2, 3, 5, 7, 8, 9]
    assert staging_tables() == []  # each source's staging tables are dropped once merged


def test_a_failed_import_leaves_no_staging_table(samples: Path, monkeypatch: pytest.MonkeyPatch):
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("merge refused")

    monkeypatch.setattr(loaders, "_merge_typed", broken)
    with pytest.raises(RuntimeError, match="merge refused"):
        register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED
    assert staging_tables() == []  # created in the import's transaction, gone with it


def fast_path(path: Path) -> loaders.Loaded:
    [source] = open_register(path)
    run = ImportRun.objects.create(file_name=path.name, file_sha256="x")
    with transaction.atomic():
        loaders.start_import(run)
        loaded = loaders.load_source(source=source, run=run, variant=str(source.variant))
        loaders.finish_import(run)
    return loaded


def odd_line(line: str, oddity: str) -> str:
    return {
        "infinite number": line.replace(";1998;1400;1900;", ";inf;1400;1900;"),
        "field over the csv limit": line.replace('"ТСЦ 8041"', '"' + "Д" * 140_000 + '"'),
        "quote inside a bare field": line.replace('"CAMRY"', 'CAMRY "XLE"'),
        "two stray quotes": line.replace('"CAMRY"', 'CAMRY"') + ';"x',
        "carriage return": line.replace(";2018;", ";20\r18;"),
        "bad date": line.replace("14.03.24", "31.02.24"),
        "doubled quotes": line.replace('"CAMRY"', '"CAMRY ""XLE"""'),
        "NUL": line.replace("TOYOTA", "TOY\x00OTA"),
    }[oddity]


@pytest.mark.parametrize(
    "oddity",
    [
        "infinite number",
        "field over the csv limit",
        "quote inside a bare field",
        "two stray quotes",
        "carriage return",
        "bad date",
        "doubled quotes",
        "NUL",
    ],
)
def test_both_paths_read_an_odd_line_alike(samples: Path, tmp_path: Path, oddity: str):
    header, rows = header_and_rows(samples)
    path = tmp_path / "odd.csv"
    path.write_text("\n".join([header, odd_line(rows[0], oddity), *rows]) + "\n", encoding="utf-8")
    expected, expected_rejects = parse(path)
    loaded = fast_path(path)
    assert loaded.fast  # COPY read the file; the odd line went to Python
    assert loaded.rejects == expected_rejects  # line, reason and the line's text
    assert (loaded.valid, loaded.inserted) == (len(expected), len({r.row_hash for r in expected}))
    first: dict[str, RegisterRow] = {}  # a row repeated in a file is stored at its first line
    for row in expected:
        first.setdefault(row.row_hash, row)
    stored = list(RegisterRecord.objects.order_by("line").values(*FIELDS, "row_hash"))
    for record, row in zip(stored, first.values(), strict=True):
        assert {f: record[f] for f in FIELDS} == {f: getattr(row, f) for f in FIELDS}
        assert record["row_hash"].hex == row.row_hash


def test_a_quote_inside_a_bare_field_is_kept_as_the_line_reader_keeps_it(
    samples: Path, tmp_path: Path
):
    header, rows = header_and_rows(samples)
    rows[0] = rows[0].replace('"CAMRY"', 'CAMRY "XLE"')  # PostgreSQL's CSV reader drops them
    path = tmp_path / "quote.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    assert RegisterRecord.objects.get(line=2).model == 'CAMRY "XLE"'
    assert (run.rows_inserted, run.rows_rejected) == (6, 0)


def test_a_field_over_the_csv_limit_is_a_reject_not_a_value_cut_short(
    samples: Path, tmp_path: Path
):
    header, rows = header_and_rows(samples)
    rows[2] = rows[2].replace('"ТСЦ 8041"', '"' + "Д" * 140_000 + '"')  # a well-shaped row
    path = tmp_path / "long.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    [reject] = ImportReject.objects.filter(run=run)
    assert (reject.line, reject.reason) == (
        4,
        "unreadable CSV line: field larger than field limit (131072)",
    )
    assert not RegisterRecord.objects.filter(line=4).exists()
    assert (run.rows_inserted, run.rows_rejected) == (5, 1)


@pytest.mark.parametrize("packed", [False, True], ids=["csv", "zip"])
def test_rows_sql_refuses_keep_their_line_as_the_file_holds_it(
    samples: Path, tmp_path: Path, packed: bool
):
    header, rows = header_and_rows(samples)
    body = [rows[0].replace("АА1234ВВ", f"КА{n:04d}АА") for n in range(4000)]  # over 1 MB
    # refused by SQL's checks, not by the line checks: their fields went through COPY
    body[5] = body[5].replace("14.03.24", "31.02.24")
    body[3500] = body[3500].replace(";2018;", ";20I8;")
    body[3998] = body[3998].replace("14.03.24", "30.02.24")
    path = tmp_path / "refused.csv"
    path.write_text("\r\n".join([header, *body]) + "\r\n", encoding="utf-8")
    if packed:
        with zipfile.ZipFile(tmp_path / "refused.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "refused.csv")
        path = tmp_path / "refused.zip"
    _, expected = parse(path)
    loaded = fast_path(path)
    assert loaded.fast
    assert [(r.line, r.raw) for r in loaded.rejects] == [
        (7, body[5]),
        (3502, body[3500]),
        (4000, body[3998]),
    ]
    assert loaded.rejects == expected


def test_the_rejects_export_escapes_a_formula_after_leading_blanks(
    samples: Path, tmp_path: Path, admin_client
):
    header, rows = header_and_rows(samples)
    formulas = [' =HYPERLINK("http://x")', " +1+1", "  -2+3", "\u00a0@SUM(A1)", "\tA1", "\rA1"]
    path = tmp_path / "formula.csv"
    path.write_text("\n".join([header, *formulas, rows[0]]) + "\n", encoding="utf-8")
    run = register_import(path=path, enqueue_crosscheck=False)
    assert run.rows_rejected == len(formulas)
    response = admin_client.get(reverse("admin:registry_importrun_rejects", args=[run.pk]))
    body = b"".join(response.streaming_content).decode()
    cells = [row[-1] for row in csv.reader(io.StringIO(body))][1:]
    assert cells == ["'" + formula for formula in formulas]
