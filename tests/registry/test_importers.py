from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from registry.importers import (
    DateFormat,
    RegisterFormatError,
    RegisterRow,
    Reject,
    Variant,
    open_register,
)

SAMPLES = Path(__file__).parent / "samples"


def parse(path: Path) -> tuple[list[RegisterRow], list[Reject]]:
    rows: list[RegisterRow] = []
    rejects: list[Reject] = []
    for source in open_register(path):
        for item in source.rows():
            (rejects if isinstance(item, Reject) else rows).append(item)
    return rows, rejects


@pytest.mark.parametrize(
    ("name", "variant", "date_format", "first_date"),
    [
        ("register_2016.csv", Variant.V2013, DateFormat.ISO, dt.date(2016, 4, 2)),
        ("register_2021.csv", Variant.V2021, DateFormat.DMY4, dt.date(2021, 3, 14)),
        ("register_2024.csv", Variant.V2023, DateFormat.DMY2, dt.date(2024, 3, 14)),
        ("register_2026.csv", Variant.V2026, DateFormat.DMY2, dt.date(2026, 1, 1)),
    ],
)
def test_it_detects_the_variant_from_the_header(
    name: str, variant: Variant, date_format: DateFormat, first_date: dt.date
) -> None:
    [source] = open_register(SAMPLES / name)
    assert source.variant is variant
    assert source.date_format is date_format
    rows, rejects = parse(SAMPLES / name)
    assert rejects == []
    assert rows[0].d_reg == first_date
    assert rows[0].line == 2


def test_2013_files_have_no_vin_and_2026_files_no_plate() -> None:
    rows_2016, _ = parse(SAMPLES / "register_2016.csv")
    rows_2026, _ = parse(SAMPLES / "register_2026.csv")
    assert {row.vin for row in rows_2016} == {""}
    assert all(row.plate_latin for row in rows_2016)
    assert {row.plate for row in rows_2026} == {""}
    assert {row.vin for row in rows_2026} >= {"JTHCK262882026114"}


def test_a_row_is_typed_and_normalised() -> None:
    rows, _ = parse(SAMPLES / "register_2024.csv")
    lexus = next(row for row in rows if row.vin == "JTHCK262882026114")
    assert lexus.plate == "АХ1312КК"
    assert lexus.plate_latin == "AX1312KK"
    assert (lexus.make_norm, lexus.model_norm) == ("LEXUS", "IS 250")
    assert (lexus.colour, lexus.colour_canonical) == ("ЧЕРВОНИЙ", "red")
    assert (lexus.make_year, lexus.capacity, lexus.own_weight, lexus.total_weight) == (
        2008,
        2499,
        2075,
        2575,
    )
    assert lexus.oper_code == 254
    tesla = next(row for row in rows if row.brand == "TESLA MODEL X")
    assert (tesla.make_norm, tesla.model_norm) == ("TESLA", "MODEL X")


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("register_2024.csv", "utf-8"),
        ("register_2024_bom.csv", "utf-8-sig"),
        ("register_2024_cp1251.csv", "cp1251"),
        ("register_2024.zip", "utf-8"),
    ],
)
def test_bom_no_bom_cp1251_and_zip_read_the_same_rows(name: str, encoding: str) -> None:
    [source] = open_register(SAMPLES / name)
    assert source.encoding == encoding
    assert source.columns[0] == "PERSON"  # no BOM glued to the first column name
    rows, rejects = parse(SAMPLES / name)
    reference, _ = parse(SAMPLES / "register_2024.csv")
    assert rejects == []
    assert [row.row_hash for row in rows] == [row.row_hash for row in reference]
    assert [row.oper_name for row in rows] == [row.oper_name for row in reference]


def test_malformed_rows_become_rejects_with_line_numbers() -> None:
    rows, rejects = parse(SAMPLES / "register_malformed.csv")
    assert [(reject.line, reject.reason) for reject in rejects] == [
        (3, "expected 20 columns, got 15"),
        (4, "bad date '2025-01-02' (expected DD.MM.YY)"),
        (5, "bad date '31.02.25' (day is out of range for month)"),
        (6, "bad number '20I8' in MAKE_YEAR"),
        (7, "unbalanced quotes"),
        (10, "bad encoding (not utf-8)"),
    ]
    assert [row.line for row in rows] == [2, 9]  # line 8 is blank
    assert all(reject.raw.startswith('"P";') for reject in rejects)


def test_a_stray_quote_does_not_swallow_the_following_rows(tmp_path: Path) -> None:
    lines = (SAMPLES / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"BMW"', '"BMW')
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, rejects = parse(path)
    assert [reject.line for reject in rejects] == [3]
    assert len(rows) == len(lines) - 2


def test_an_unknown_encoding_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_text((SAMPLES / "register_2024.csv").read_text(encoding="utf-8"), encoding="utf-16")
    with pytest.raises(RegisterFormatError, match="UTF-16"):
        open_register(path)
    latin = tmp_path / "latin.csv"
    header = (SAMPLES / "register_2024.csv").read_bytes().split(b"\r\n")[0]
    latin.write_bytes(
        header + b"\r\n" + ("\u00e9\u00e8\u00ea;" * 20 + "\r\n").encode("latin-1") * 5
    )
    with pytest.raises(RegisterFormatError, match="neither UTF-8 nor Windows-1251"):
        open_register(latin)


def test_a_file_that_is_not_a_register_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("A;B;C\n1;2;3\n", encoding="utf-8")
    with pytest.raises(RegisterFormatError, match="lacks OPER_CODE, D_REG, BRAND, MODEL"):
        open_register(path)


def test_a_zip_without_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    with pytest.raises(RegisterFormatError, match="no .csv"):
        open_register(path)


def test_exact_duplicate_rows_share_a_hash_and_line_numbers_differ(tmp_path: Path) -> None:
    lines = (SAMPLES / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "dup.csv"
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    rows, _ = parse(path)
    assert rows[0].row_hash == rows[-1].row_hash
    assert (rows[0].line, rows[-1].line) == (2, len(lines) + 1)


def test_numbers_too_big_for_the_database_are_rejected(tmp_path: Path) -> None:
    lines = (SAMPLES / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(";1998;", ";99999999999;", 1)
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, rejects = parse(path)
    assert [reject.line for reject in rejects] == [2]
    assert "out of range" in rejects[0].reason


def test_a_nul_byte_is_a_reject_not_a_failed_copy(tmp_path: Path) -> None:
    lines = (SAMPLES / "register_2024.csv").read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b"BMW", b"B\x00MW")
    path = tmp_path / "nul.csv"
    path.write_bytes(b"\r\n".join(lines))
    rows, rejects = parse(path)
    assert [(r.line, r.reason) for r in rejects] == [(3, "NUL byte")]
    assert len(rows) == 5


def sample_lines() -> list[str]:
    return (SAMPLES / "register_2024.csv").read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("number", ["inf", "-inf", "1e400", "nan"])
def test_an_infinite_number_is_a_reject_not_a_crash(tmp_path: Path, number: str) -> None:
    lines = sample_lines()
    lines[1] = lines[1].replace(";1998;1400;1900;", f";{number};1400;1900;")  # CAPACITY
    rows, rejects = parse(write_lines(tmp_path / "inf.csv", lines))
    assert [(r.line, r.reason) for r in rejects] == [(2, f"bad number {number!r} in CAPACITY")]
    assert len(rows) == 5


def test_a_field_over_the_csv_limit_near_the_top_is_a_reject_of_its_line(tmp_path: Path) -> None:
    lines = sample_lines()
    long_line = '"P";"' + "x" * 200_000 + '"'  # within the sniffed 256 KB
    path = write_lines(tmp_path / "long.csv", [lines[0], lines[1], long_line, *lines[2:]])
    [source] = open_register(path)
    assert source.date_format is DateFormat.DMY2
    rows, rejects = parse(path)
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "unreadable CSV line: field larger than field limit (131072)")
    ]
    assert rejects[0].raw == long_line[:2000]
    assert [row.line for row in rows] == [2, 4, 5, 6, 7, 8]


def test_a_stray_carriage_return_near_the_top_is_a_reject_of_its_line(tmp_path: Path) -> None:
    lines = sample_lines()
    lines[2] = lines[2].replace(";2016;", ";20\r16;")  # an unquoted CR inside MAKE_YEAR
    rows, rejects = parse(write_lines(tmp_path / "cr.csv", lines))
    assert [r.line for r in rejects] == [3]
    assert rejects[0].reason.startswith("unreadable CSV line: new-line character seen")
    assert [row.line for row in rows] == [2, 4, 5, 6, 7]


def test_a_file_whose_lines_end_in_a_bare_carriage_return_is_refused_clearly(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes((SAMPLES / "register_2024.csv").read_bytes().replace(b"\r\n", b"\r"))
    with pytest.raises(RegisterFormatError, match="bare carriage return"):
        open_register(path)


def test_two_stray_quotes_on_a_line_do_not_swallow_the_next_row(tmp_path: Path) -> None:
    lines = sample_lines()
    # one quote lost, one added: the count stays even, and `;"x` opens a field to the line's end
    lines[1] = lines[1].replace('"CAMRY"', 'CAMRY"') + ';"x'
    rows, rejects = parse(write_lines(tmp_path / "swallow.csv", lines))
    assert [(r.line, r.reason, r.raw) for r in rejects] == [
        (2, "expected 20 columns, got 21", lines[1])
    ]
    assert [row.line for row in rows] == [3, 4, 5, 6, 7]


def test_a_record_over_two_lines_is_a_reject_of_each_line(tmp_path: Path) -> None:
    lines = sample_lines()
    first, second = lines[1].split('"TOYOTA";')
    path = write_lines(tmp_path / "split.csv", [lines[0], first + '"TOY', 'OTA";' + second])
    rows, rejects = parse(path)
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "unbalanced quotes"),
        (3, "unbalanced quotes"),
    ]
    assert rows == []


def test_the_date_format_is_the_one_most_sampled_dates_are_in(tmp_path: Path) -> None:
    lines = sample_lines()
    lines[1] = lines[1].replace(";14.03.24;", ";2024-03-14;")  # the first row's date is ISO
    path = write_lines(tmp_path / "first_date.csv", lines)
    [source] = open_register(path)
    assert source.date_format is DateFormat.DMY2
    rows, rejects = parse(path)
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "bad date '2024-03-14' (expected DD.MM.YY)")
    ]
    assert [row.line for row in rows] == [3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16-le", "UTF-16-LE"),
        ("utf-16-be", "UTF-16-BE"),
        ("utf-32-le", "UTF-32-LE"),
        ("utf-32-be", "UTF-32-BE"),
    ],
)
def test_utf16_and_utf32_without_a_byte_order_mark_are_refused_clearly(
    tmp_path: Path, encoding: str, name: str
) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes((SAMPLES / "register_2024.csv").read_text(encoding="utf-8").encode(encoding))
    with pytest.raises(RegisterFormatError) as refused:
        open_register(path)
    assert str(refused.value) == (
        f"file is {name} (without a byte order mark), which is not supported: the register is "
        "published in UTF-8; convert it to UTF-8"
    )


def test_a_header_with_nul_bytes_is_refused_as_not_text(tmp_path: Path) -> None:
    path = tmp_path / "._register.csv"  # what macOS writes beside a file: binary metadata
    path.write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + b"\x00" * 40)
    with pytest.raises(RegisterFormatError) as refused:
        open_register(path)
    assert str(refused.value) == "._register.csv: the header holds NUL bytes: not a text file"


def test_zip_members_of_the_same_name_are_each_read(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(SAMPLES / "register_2024.csv", "register.csv")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.write(SAMPLES / "register_2021.csv", "register.csv")
    first, second = open_register(path)
    assert (first.name, second.name) == ("dup.zip:register.csv", "dup.zip:register.csv#2")
    assert (first.variant, second.variant) == (Variant.V2023, Variant.V2021)
    assert {row.d_reg.year for row in first.rows() if isinstance(row, RegisterRow)} == {2024}
    assert {row.d_reg.year for row in second.rows() if isinstance(row, RegisterRow)} == {2021}


def test_macos_metadata_in_a_zip_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "mac.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(SAMPLES / "register_2024.csv", "register_2024.csv")
        archive.writestr("__MACOSX/._register_2024.csv", b"\x00\x05\x16\x07" + b"\x00" * 40)
    [source] = open_register(path)
    assert source.name == "mac.zip:register_2024.csv"
