"""Which lines of a register file the fast path hands to ``COPY`` and which to Python
(``registry.loaders``), and finding a line of the file again.

A line goes to ``COPY`` only if PostgreSQL's CSV reader reads it exactly as the line reader
(``registry.importers.parse_line``) does; any other line is read by Python, so both paths give
the same rows and the same rejects.
"""

from __future__ import annotations

import bisect
import csv
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from registry import partitions
from registry.encodings import RegisterFormatError
from registry.importers import RegisterSource

COPY_BUFFER = 1 << 20


# Called now and then with (lines read, bytes read) of the source being loaded: the live
# progress an operator sees (registry/progress.py). Lines, not rows: the count is what was read.
Progress = Callable[[int, int], None]


def no_progress(lines: int, bytes_read: int) -> None:
    return None


@dataclass
class Copied:
    """What ``copy_lines`` left to Python, and where to find a line of the file again."""

    suspects: list[tuple[int, bytes]] = field(default_factory=list)  # (number, bytes), in order
    # (number, byte offset) of each chunk's first line: a reject's line is re-read from there.
    marks: list[tuple[int, int]] = field(default_factory=lambda: [(1, 0)])


def copy_lines(
    source: RegisterSource, write: Callable[[bytes], object], progress: Progress = no_progress
) -> Copied:
    """Send PostgreSQL every line that reads as a clean record, numbered; return the others.

    Per line the checks are byte counts (cheap in C): even quotes, exactly one separator fewer
    than columns, decodable, and no longer than the csv module's field limit (such a line may
    hold a field the line reader rejects and COPY would store cut). Per chunk of lines,
    ``_suspect_offsets`` finds NULs, CRs and quotes inside a field. Such a line goes to Python,
    which reads it as the line reader would (a row or a reject).
    """
    separators = len(source.columns) - 1
    encoding = source.encoding
    longest = csv.field_size_limit()
    copied = Copied()
    buffer: list[bytes] = []
    size = 0
    source.bytes_read = 0
    scratch = _Scratch()

    def flush() -> None:
        chunk = b"".join(buffer)
        if offsets := _suspect_offsets(chunk, scratch):
            chunk = _set_aside(chunk, offsets, copied.suspects)
        if chunk:
            write(chunk)
        buffer.clear()

    with source.opener() as stream:
        for number, raw in enumerate(stream, start=1):
            source.bytes_read += len(raw)
            line = raw.rstrip(b"\r\n")
            if number == 1 or not line:
                continue  # the header; blank lines are skipped as the line reader does
            if number > partitions.MAX_LINE:
                raise RegisterFormatError(too_long(source))
            length = len(line)
            if (
                line.count(b";") != separators
                or line.count(b'"') % 2
                or length > longest
                or not _decodes(line, encoding)
            ):
                copied.suspects.append((number, raw))
                continue
            buffer.append(b"%d;%s\n" % (number, line))
            size += length
            if size >= COPY_BUFFER:
                flush()
                size = 0
                copied.marks.append((number + 1, source.bytes_read))
                progress(number, source.bytes_read)
    if buffer:
        flush()
    copied.suspects.sort()
    return copied


_QUOTE, _SEPARATOR, _NEWLINE = ord('"'), ord(";"), ord("\n")


_Bools = npt.NDArray[np.bool_]


class _Scratch:
    """The boolean arrays ``_suspect_offsets`` works in, allocated once per file: fresh 1 MB
    arrays for each chunk cost more in page faults than the comparisons themselves (0.3 s in
    500,000 rows, against 0.05)."""

    def __init__(self) -> None:
        self.arrays: _Bools = np.empty((3, 0), dtype=np.bool_)

    def get(self, size: int) -> tuple[_Bools, _Bools, _Bools]:
        if self.arrays.shape[1] < size:
            self.arrays = np.empty((3, max(size, 2 * COPY_BUFFER)), dtype=np.bool_)
        first, second, third = self.arrays[:, :size]
        return first, second, third


def _suspect_offsets(chunk: bytes, scratch: _Scratch) -> list[int]:
    """Where in `chunk` (numbered lines, each ending in a newline) COPY would read a line
    otherwise than the line reader: a NUL; a CR (COPY refuses a bare one, csv an unquoted one);
    a quote inside a field (PostgreSQL takes the quotes of `CAMRY "XLE"` for quoting and drops
    them; csv keeps them)."""
    offsets = [at for byte in (b"\x00", b"\r") if byte in chunk for at in _finds(chunk, byte)]
    # A quote at a field's edge has exactly one separator (or the line's end) beside it: `;"x`
    # opens a field, `x";` closes one; with none (`CAMRY "XLE"`) or two (`;";`) it is not at an
    # edge. numpy, since this reads every byte of the file: as bytes.count calls it took 4 ms a
    # MB, as array operations 0.3.
    data = np.frombuffer(chunk, dtype=np.uint8)
    inside, after, before = scratch.get(len(data) - 2)
    np.equal(data[:-2], _SEPARATOR, out=after)
    np.equal(data[2:], _SEPARATOR, out=before)
    np.logical_or(before, np.equal(data[2:], _NEWLINE, out=inside), out=before)
    np.equal(after, before, out=after)
    np.logical_and(np.equal(data[1:-1], _QUOTE, out=inside), after, out=inside)
    if inside.any():
        offsets.extend((np.flatnonzero(inside) + 1).tolist())
    return offsets


def _finds(chunk: bytes, byte: bytes) -> Iterator[int]:
    at = chunk.find(byte)
    while at >= 0:
        yield at
        at = chunk.find(byte, at + 1)


def _set_aside(chunk: bytes, offsets: list[int], suspects: list[tuple[int, bytes]]) -> bytes:
    """`chunk` less its lines that hold these offsets, which go to `suspects`."""
    kept: list[bytes] = []
    end = 0
    for start in sorted({chunk.rfind(b"\n", 0, at) + 1 for at in offsets}):
        kept.append(chunk[end:start])
        end = chunk.index(b"\n", start) + 1
        number, _, line = chunk[start : end - 1].partition(b";")
        suspects.append((int(number), line))
    kept.append(chunk[end:])
    return b"".join(kept)


def original_lines(
    source: RegisterSource, numbers: list[int], marks: list[tuple[int, int]]
) -> dict[int, bytes]:
    """These lines as the file holds them (fields COPY split, quoted again, would not give
    a line back), each read on from the chunk mark before it: a large file with a few rejects
    is not read through again."""
    found: dict[int, bytes] = {}
    with source.opener() as stream:
        at = 1  # the number of the line the stream is at
        for number in sorted(set(numbers)):
            mark, offset = marks[bisect.bisect_right(marks, number, key=operator.itemgetter(0)) - 1]
            if mark > at:
                stream.seek(offset)
                at = mark
            while at < number:
                stream.readline()
                at += 1
            found[number] = stream.readline()
            at += 1
    return found


def too_long(source: RegisterSource) -> str:
    return f"{source.name}: more than {partitions.MAX_LINE:,} lines in one file"


def _decodes(line: bytes, encoding: str) -> bool:
    if line.isascii():
        return True
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


__all__ = [
    "COPY_BUFFER",
    "Copied",
    "Progress",
    "copy_lines",
    "no_progress",
    "original_lines",
    "too_long",
]
