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
import logging
import operator
import re
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
HEADER_SHOWN = 300  # characters of a refused header quoted in the error

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
    except (ValueError, OverflowError):  # OverflowError: `inf`, `1e400`
        raise _BadRow(f"bad number {text!r} in {column}") from None
    if value not in INT_RANGE:
        raise _BadRow(f"number {text!r} out of range in {column}")
    return value


def detect_date_format(values: list[str]) -> DateFormat | None:
    """The format most of `values` are in: one malformed date, even the first, must not decide
    the format of the whole file (and so reject every good row)."""
    counts = Counter(
        fmt for value in values for fmt, pattern in _DATE_PATTERNS.items() if pattern.match(value)
    )
    return max(counts, key=counts.__getitem__) if counts else None


def detect_variant(columns: tuple[str, ...], date_format: DateFormat | None) -> Variant:
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        header = printable(";".join(columns))[:HEADER_SHOWN]
        raise RegisterFormatError(
            f"not a register file: header lacks {', '.join(missing)} (header: {header})"
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

    def sniff(self, *, encoding: str | None = None) -> None:
        with self.opener() as stream:
            sample = stream.read(SNIFF_BYTES)
        if not sample:
            raise RegisterFormatError(f"{self.name}: empty file")
        self.encoding = encoding or detect_encoding(sample)
        lines = sample.split(b"\n")
        if len(sample) == SNIFF_BYTES and len(lines) > 1:
            lines.pop()  # cut short by the sample's end: its date may be cut too
        self.columns = tuple(name.strip().upper() for name in self._header(lines[0]))
        dates: list[str] = []
        if "D_REG" in self.columns:
            index = self.columns.index("D_REG")
            # Line by line, as rows() reads them: a line csv cannot read (a stray CR, a field
            # over its size limit) is that line's reject, not a reason to refuse the file.
            for line in lines[1:200]:
                try:
                    fields = _split(line.rstrip(b"\r").decode(self.encoding, errors="replace"))
                except csv.Error:
                    continue
                if len(fields) > index:
                    dates.append(fields[index].strip())
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

    def _header(self, line: bytes) -> list[str]:
        text = line.rstrip(b"\r").decode(self.encoding, errors="replace")
        if "\x00" in text:  # a UTF-16 file detect_encoding could not tell, a binary file
            raise RegisterFormatError(f"{self.name}: the header holds NUL bytes: not a text file")
        if "\r" in text:
            raise RegisterFormatError(
                f"{self.name}: lines end in a bare carriage return (CR); re-save the file with "
                "LF or CRLF line ends"
            )
        try:
            return _split(text)
        except csv.Error as exc:
            raise RegisterFormatError(f"{self.name}: unreadable header: {exc}") from None

    def rows(self) -> Iterator[RegisterRow | Reject]:
        """Typed rows and rejects in file order; the header is line 1.

        Each physical line is read on its own, as the fast path reads it (``parse_line``), so a
        stray quote or a bad byte never swallows the rows after it: a record over several lines
        is a reject of each of its lines.
        """
        if self.variant is None:
            self.sniff()
        self.bytes_read = 0
        with self.opener() as stream:
            for number, raw in enumerate(stream, start=1):
                self.bytes_read += len(raw)
                if number > 1 and (item := parse_line(self, number, raw)) is not None:
                    yield item


def parse_line(source: RegisterSource, number: int, raw: bytes) -> RegisterRow | Reject | None:
    """One physical line on its own (both paths read every line so); None for a blank line."""
    text = raw.rstrip(b"\r\n")
    try:
        decoded = text.decode(source.encoding)
    except UnicodeDecodeError:
        return Reject(number, f"bad encoding (not {source.encoding})", reject_text(source, raw))
    if "\x00" in decoded:
        return Reject(number, "NUL byte", reject_text(source, raw))
    if decoded.count('"') % 2:
        return Reject(number, "unbalanced quotes", decoded[:RAW_TEXT_LIMIT])
    try:
        fields = _split(decoded)
    except csv.Error as exc:
        return Reject(number, f"unreadable CSV line: {exc}", decoded[:RAW_TEXT_LIMIT])
    if not fields or (len(fields) == 1 and not fields[0].strip()):
        return None
    converted = convert_fields(source, number, fields)
    if isinstance(converted, Reject):
        return converted._replace(raw=decoded[:RAW_TEXT_LIMIT])
    return converted


def reject_text(source: RegisterSource, raw: bytes) -> str:
    """A line as its reject keeps it: decoded (a bad byte replaced), NULs escaped (PostgreSQL's
    text cannot hold one), cut to ``RAW_TEXT_LIMIT``."""
    text = raw.rstrip(b"\r\n").decode(source.encoding, errors="replace")
    return text.replace("\x00", "\\x00")[:RAW_TEXT_LIMIT]


class _OneLine:
    """The csv reader's input, one line at a time: a record never runs on into the next line
    (the reader meets the input's end, as it would reading the line alone), and one reader
    serves every line (a reader per line cost 0.6 us of the line reader's 10 a row)."""

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        line, self.line = self.line, None
        if line is None:
            raise StopIteration
        return line


_readers = threading.local()  # a (_OneLine, reader) pair per thread


def _split(text: str) -> list[str]:
    """One line's fields, as ``csv`` reads the line alone; raises ``csv.Error``."""
    try:
        feed, reader = _readers.pair
    except AttributeError:
        feed = _OneLine()
        reader = csv.reader(feed, delimiter=";")
        _readers.pair = feed, reader
    feed.line = text
    return next(reader, [])


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with NULs and other control characters escaped (``\\x00``): PostgreSQL's text
    cannot hold a NUL, and a message shown to an operator must not carry terminal controls."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


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
                if info.filename.lower().endswith(".csv")
                and not info.is_dir()
                # macOS's Finder adds a __MACOSX/._name.csv (binary metadata) for each file
                and "__MACOSX" not in info.filename.split("/")
            ]
        if not members:
            raise RegisterFormatError(f"{path.name}: the ZIP holds no .csv file")
        seen: Counter[str] = Counter()
        sources: list[RegisterSource] = []
        for info in members:
            # A ZIP may hold two members of one name: each is read, and named apart.
            seen[info.filename] += 1
            suffix = f"#{seen[info.filename]}" if seen[info.filename] > 1 else ""
            sources.append(
                RegisterSource(
                    name=f"{path.name}:{info.filename}{suffix}",
                    size=info.file_size,
                    opener=_zip_opener(path, info),
                )
            )
    else:
        sources = [
            RegisterSource(name=path.name, size=path.stat().st_size, opener=lambda: path.open("rb"))
        ]
    for source in sources:
        source.sniff(encoding=encoding)
    return sources


def _zip_opener(path: Path, member: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        # The member stream keeps the shared file handle alive after the archive is closed.
        with zipfile.ZipFile(path) as archive:
            return archive.open(member)

    return opener
