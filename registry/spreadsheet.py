"""Cells that are safe to open in a spreadsheet, for every CSV export (CSV injection, OWASP)."""

from __future__ import annotations

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
