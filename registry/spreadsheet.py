"""Cells that are safe to open in a spreadsheet, for every CSV export (CSV injection, OWASP)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

# A cell a spreadsheet would run as a formula gets a leading quote so it is shown as text.
# Spreadsheets skip leading blanks before a formula (` =1+1`), and tab and carriage return start
# formulas in some of them.
_FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROL_STARTS = ("\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and (
        value.startswith(_CONTROL_STARTS) or value.lstrip().startswith(_FORMULA_STARTS)
    ):
        return "'" + value
    return value


class _Echo:
    """A file for csv.writer that hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Each row as one CSV line, as it is made: for a streamed download of any length."""
    writer = csv.writer(_Echo())
    return (writer.writerow(row) for row in rows)
