"""Streaming parser for the open-data register files of the Ministry of Internal Affairs.

Pure Python, no Django: ``open_register(path)`` yields one ``RegisterSource`` per CSV (a plain
``.csv`` or each CSV inside a ``.zip``); ``source.rows()`` yields typed ``RegisterRow`` values
and ``Reject`` values for bad rows, one line at a time, so memory does not grow with the file.

Format facts (the samples in tests/registry/samples/README.md show each variant):
- ``;``-separated, strings quoted, numbers bare, UTF-8 with or without BOM;
- 2013-2020: no VIN column, dates ``YYYY-MM-DD``; 2021-22: ``DD.MM.YYYY``; 2023+: ``DD.MM.YY``;
- 2026: 17 columns and no ``N_REG_NEW`` plate column, so matching goes by VIN.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import hashlib
import io
import logging
import operator
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, NamedTuple

from recognition.pipeline.regions import normalise_plate
from registry.encodings import RegisterFormatError, detect_encoding
from registry.normalise import normalise_colour, normalise_vin, register_make_model

logger = logging.getLogger(__name__)

# Enough lines to tell UTF-8 from cp1251 and to find the date format, small enough to read twice.
SNIFF_BYTES = 256 * 1024
RAW_TEXT_LIMIT = 2000  # characters of a bad row kept in the rejects report

REQUIRED_COLUMNS = ("OPER_CODE", "D_REG", "BRAND", "MODEL")
ALL_COLUMNS = (
    "PERSON",
    "REG_ADDR_KOATUU",
    "OPER_CODE",
    "OPER_NAME",
    "D_REG",
    "DEP_CODE",
    "DEP",
    "BRAND",
    "MODEL",
    "VIN",
    "MAKE_YEAR",
    "COLOR",
    "KIND",
    "BODY",
    "PURPOSE",
    "FUEL",
    "CAPACITY",
    "OWN_WEIGHT",
    "TOTAL_WEIGHT",
    "N_REG_NEW",
)


class Variant(enum.StrEnum):
    V2013 = "2013-2020"  # no VIN, YYYY-MM-DD
    V2021 = "2021-2022"  # DD.MM.YYYY
    V2023 = "2023+"  # DD.MM.YY
    V2026 = "2026"  # no plate column: VIN only


class DateFormat(enum.StrEnum):
    ISO = "YYYY-MM-DD"
    DMY4 = "DD.MM.YYYY"
    DMY2 = "DD.MM.YY"


_DATE_PATTERNS = {
    DateFormat.ISO: re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    DateFormat.DMY4: re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$"),
    DateFormat.DMY2: re.compile(r"^(\d{2})\.(\d{2})\.(\d{2})$"),
}


class RegisterRow(NamedTuple):
    """One operation. Field names and order are those of ``RegisterRecord`` columns, so the
    loader can hand a row to ``COPY`` as it is."""

    plate: str  # as in the file (Cyrillic)
    plate_latin: str
    vin: str
    brand: str
    model: str
    make_norm: str
    model_norm: str
    colour: str
    colour_canonical: str
    make_year: int | None
    d_reg: dt.date
    oper_code: int | None
    oper_name: str
    dep_code: str
    dep: str
    kind: str
    body: str
    purpose: str
    fuel: str
    capacity: int | None
    own_weight: int | None
    total_weight: int | None
    person: str
    koatuu: str
    line: int
    row_hash: str  # 32 hex digits: identity of the operation, for idempotent re-import


class Reject(NamedTuple):
    line: int
    reason: str
    raw: str


class _BadRow(ValueError):
    pass


@lru_cache(maxsize=8192)
def parse_date(text: str, fmt: DateFormat) -> dt.date:
    match = _DATE_PATTERNS[fmt].match(text)
    if match is None:
        raise _BadRow(f"bad date {text!r} (expected {fmt.value})")
    a, b, c = (int(part) for part in match.groups())
    try:
        if fmt is DateFormat.ISO:
            return dt.date(a, b, c)
        return dt.date(c if fmt is DateFormat.DMY4 else 2000 + c, b, a)
    except ValueError as exc:
        raise _BadRow(f"bad date {text!r} ({exc})") from exc


_NUMBERS = ("OPER_CODE", "MAKE_YEAR", "CAPACITY", "OWN_WEIGHT", "TOTAL_WEIGHT")
_numbers = operator.itemgetter(*(ALL_COLUMNS.index(name) for name in _NUMBERS))
INT_RANGE = range(-(2**31), 2**31)  # PostgreSQL integer: a bigger value would fail a COPY round


def _int(text: str, column: str) -> int | None:
    """Slow path for the numbers that ``int()`` refused: spaces, ``1598.0``, garbage."""
    text = text.strip()
    if not text:
        return None
    try:
        value = int(float(text.replace(",", ".")))
    except ValueError:
        raise _BadRow(f"bad number {text!r} in {column}") from None
    if value not in INT_RANGE:
        raise _BadRow(f"number {text!r} out of range in {column}")
    return value


def detect_date_format(values: list[str]) -> DateFormat | None:
    for value in values:
        for fmt, pattern in _DATE_PATTERNS.items():
            if pattern.match(value):
                return fmt
    return None


def detect_variant(columns: tuple[str, ...], date_format: DateFormat | None) -> Variant:
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RegisterFormatError(
            f"not a register file: header lacks {', '.join(missing)} (header: {';'.join(columns)})"
        )
    if "N_REG_NEW" not in columns:
        if "VIN" not in columns:
            raise RegisterFormatError("header has neither N_REG_NEW nor VIN: nothing to match on")
        return Variant.V2026
    if "VIN" not in columns:
        return Variant.V2013
    return Variant.V2021 if date_format is DateFormat.DMY4 else Variant.V2023


@dataclass
class RegisterSource:
    """One CSV: a plain file, or one member of a ZIP."""

    name: str
    size: int  # uncompressed bytes, for the progress bar
    opener: Callable[[], IO[bytes]]
    encoding: str = ""
    variant: Variant | None = None
    date_format: DateFormat = DateFormat.DMY2
    columns: tuple[str, ...] = ()
    bytes_read: int = 0
    bad_raw: dict[int, str] = field(default_factory=dict)
    last_text: str = ""  # the line the csv reader consumed last: a reject's raw text

    def sniff(self, *, encoding: str | None = None) -> None:
        with self.opener() as stream:
            sample = stream.read(SNIFF_BYTES)
        self.encoding = encoding or detect_encoding(sample)
        text = sample.decode(self.encoding, errors="replace")
        records = list(csv.reader(io.StringIO(text), delimiter=";"))
        if not records:
            raise RegisterFormatError(f"{self.name}: empty file")
        self.columns = tuple(name.strip().upper() for name in records[0])
        dates: list[str] = []
        if "D_REG" in self.columns:
            index = self.columns.index("D_REG")
            dates = [rec[index].strip() for rec in records[1:200] if len(rec) > index]
        date_format = detect_date_format(dates)
        self.variant = detect_variant(self.columns, date_format)
        self.date_format = date_format or {
            Variant.V2013: DateFormat.ISO,
            Variant.V2021: DateFormat.DMY4,
        }.get(self.variant, DateFormat.DMY2)
        logger.info(
            "register source %s: variant %s, %s, dates %s, %d columns",
            self.name,
            self.variant,
            self.encoding,
            self.date_format,
            len(self.columns),
        )

    def _lines(self, stream: IO[bytes], bad_lines: dict[int, str]) -> Iterator[str]:
        """Decoded lines; a line that cannot be decoded or would open a multi-line record is
        replaced by a blank one and reported through ``bad_lines``, so one bad byte or stray
        quote never swallows the rows after it."""
        encoding = self.encoding
        for number, raw in enumerate(stream, start=1):
            self.bytes_read += len(raw)
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                bad_lines[number] = f"bad encoding (not {encoding})"
                self.bad_raw[number] = raw.decode(encoding, errors="replace")
                yield "\n"
                continue
            if "\x00" in text:
                bad_lines[number] = "NUL byte"
                self.bad_raw[number] = text.replace("\x00", "\\x00")
                yield "\n"
                continue
            if text.count('"') % 2:
                bad_lines[number] = "unbalanced quotes"
                self.bad_raw[number] = text
                yield "\n"
                continue
            self.last_text = text
            yield text

    def rows(self) -> Iterator[RegisterRow | Reject]:
        """Typed rows and rejects in file order; the header is line 1."""
        if self.variant is None:
            self.sniff()
        bad_lines: dict[int, str] = {}
        self.bytes_read = 0
        with self.opener() as stream:
            reader = csv.reader(self._lines(stream, bad_lines), delimiter=";")
            next(reader, None)
            last = reader.line_num
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # a field over csv's size limit, and the like
                    start, last = last + 1, reader.line_num
                    raw = self.last_text.rstrip("\r\n")[:RAW_TEXT_LIMIT]
                    yield Reject(start, f"unreadable CSV line: {exc}", raw)
                    continue
                start, last = last + 1, reader.line_num
                if bad_lines and start in bad_lines:
                    raw = self.bad_raw.pop(start)
                    yield Reject(start, bad_lines.pop(start), raw.rstrip("\r\n")[:RAW_TEXT_LIMIT])
                    continue
                if last > start:
                    reason = f"record spans lines {start}-{last}"
                    yield Reject(start, reason, self.last_text.rstrip("\r\n")[:RAW_TEXT_LIMIT])
                    continue
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # blank line
                converted = convert_fields(self, start, fields)
                if isinstance(converted, Reject):
                    converted = converted._replace(
                        raw=self.last_text.rstrip("\r\n")[:RAW_TEXT_LIMIT]
                    )
                yield converted


def parse_line(source: RegisterSource, number: int, raw: bytes) -> RegisterRow | Reject | None:
    """One physical line on its own, with the line reader's reasons; None for a blank line."""
    text = raw.rstrip(b"\r\n")
    try:
        decoded = text.decode(source.encoding)
    except UnicodeDecodeError:
        bad = text.decode(source.encoding, errors="replace")
        return Reject(number, f"bad encoding (not {source.encoding})", bad[:RAW_TEXT_LIMIT])
    if "\x00" in decoded:
        return Reject(number, "NUL byte", decoded.replace("\x00", "\\x00")[:RAW_TEXT_LIMIT])
    if decoded.count('"') % 2:
        return Reject(number, "unbalanced quotes", decoded[:RAW_TEXT_LIMIT])
    try:
        fields = next(csv.reader([decoded], delimiter=";"), [])
    except csv.Error as exc:
        return Reject(number, f"unreadable CSV line: {exc}", decoded[:RAW_TEXT_LIMIT])
    if not fields or (len(fields) == 1 and not fields[0].strip()):
        return None
    converted = convert_fields(source, number, fields)
    if isinstance(converted, Reject):
        return converted._replace(raw=decoded[:RAW_TEXT_LIMIT])
    return converted


def convert_fields(source: RegisterSource, line: int, fields: list[str]) -> RegisterRow | Reject:
    """One record's fields -> a typed row, or a reject with the reason (raw left empty)."""
    width = len(source.columns)
    if len(fields) == width + 1 and not fields[-1]:
        fields = fields[:-1]  # a trailing separator, seen in some yearly files
    if len(fields) != width:
        return Reject(line, f"expected {width} columns, got {len(fields)}", "")
    try:
        return _converter(source.columns, source.date_format)(line, fields)
    except _BadRow as exc:
        return Reject(line, str(exc), "")


@lru_cache(maxsize=64)
def _converter(
    columns: tuple[str, ...], date_format: DateFormat
) -> Callable[[int, list[str]], RegisterRow]:
    return _row_converter(columns, date_format)


def _checked_numbers(values: tuple[str, ...], d_reg: dt.date) -> list[int | None]:
    """OPER_CODE, MAKE_YEAR, CAPACITY, OWN_WEIGHT, TOTAL_WEIGHT as ints, range-checked."""
    try:
        numbers = [int(text) if text else None for text in _numbers(values)]
    except ValueError:
        numbers = [_int(text, name) for text, name in zip(_numbers(values), _NUMBERS, strict=True)]
    for number in numbers:
        if number is not None and number not in INT_RANGE:
            raise _BadRow(f"number {number} out of range")
    make_year = numbers[1]
    if make_year is not None and not 1900 <= make_year <= d_reg.year + 1:
        raise _BadRow(f"bad MAKE_YEAR {make_year}")
    return numbers


def _row_converter(
    columns: tuple[str, ...], date_format: DateFormat
) -> Callable[[int, list[str]], RegisterRow]:
    # A column the variant lacks reads index -1, which convert() fills with "".
    # Long on purpose: convert() runs once per register row (tens of millions a year), so it
    # unpacks the 20 columns and builds the row in one flat call, in the file's column order.
    pick = operator.itemgetter(
        *(columns.index(name) if name in columns else -1 for name in ALL_COLUMNS)
    )

    def convert(line: int, fields: list[str]) -> RegisterRow:
        values: tuple[str, ...] = pick([*fields, ""])
        (
            person,
            koatuu,
            oper_code,
            oper_name,
            d_reg_text,
            dep_code,
            dep,
            brand,
            model,
            vin,
            make_year_text,
            colour,
            kind,
            body,
            purpose,
            fuel,
            capacity,
            own_weight,
            total_weight,
            plate,
        ) = values
        d_reg = parse_date(d_reg_text.strip(), date_format)
        numbers = _checked_numbers(values, d_reg)
        make_year = numbers[1]
        make, model_key = register_make_model(brand, model)
        # md5 because PostgreSQL computes the same digest when it imports a clean file itself.
        digest = hashlib.md5("\x1f".join(values).encode(), usedforsecurity=False).hexdigest()
        return RegisterRow(
            plate,
            normalise_plate(plate),
            normalise_vin(vin),
            brand,
            model,
            make,
            model_key,
            colour,
            normalise_colour(colour),
            make_year,
            d_reg,
            numbers[0],
            oper_name,
            dep_code,
            dep,
            kind,
            body,
            purpose,
            fuel,
            numbers[2],
            numbers[3],
            numbers[4],
            person,
            koatuu,
            line,
            digest,
        )

    return convert


def open_register(path: Path, *, encoding: str | None = None) -> list[RegisterSource]:
    """Sniffed sources for a ``.csv`` file or every CSV inside a ``.zip``."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [
                info
                for info in archive.infolist()
                if info.filename.lower().endswith(".csv") and not info.is_dir()
            ]
        if not members:
            raise RegisterFormatError(f"{path.name}: the ZIP holds no .csv file")
        sources = [
            RegisterSource(
                name=f"{path.name}:{info.filename}",
                size=info.file_size,
                opener=_zip_opener(path, info.filename),
            )
            for info in members
        ]
    else:
        sources = [
            RegisterSource(name=path.name, size=path.stat().st_size, opener=lambda: path.open("rb"))
        ]
    for source in sources:
        source.sniff(encoding=encoding)
    return sources


def _zip_opener(path: Path, member: str) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        # The member stream keeps the shared file handle alive after the archive is closed.
        with zipfile.ZipFile(path) as archive:
            return archive.open(member)

    return opener
