"""The SQL that checks and types one raw register row (the import's fast path, see loaders).

Each function returns SQL text over the raw staging table (alias `r`) (text columns c0..cN in
the file's column order). The checks accept only the rows SQL converts exactly as
``registry.importers`` would; the others go to Python.
"""

from __future__ import annotations

from registry.importers import ALL_COLUMNS, RegisterSource
from registry.normalise import PLATE_LATIN_SQL, VIN_SQL, date_parts_sql

NUMBER_COLUMNS = ("OPER_CODE", "MAKE_YEAR", "CAPACITY", "OWN_WEIGHT", "TOTAL_WEIGHT")


def raw_column(source: RegisterSource, name: str) -> str:
    """The raw text column holding `name` ('' for a column this variant lacks)."""
    if name in source.columns:
        return f"r.c{source.columns.index(name)}"  # never NULL: FORCE_NOT_NULL in the COPY
    return "''"


def _digits_sql(expression: str, max_len: int) -> str:
    """True for 1..max_len ASCII digits: translate() instead of a regex (several times faster
    per row, and a import checks millions)."""
    return (
        f"(length({expression}) BETWEEN 1 AND {max_len} "
        f"AND translate({expression}, '0123456789', '') = '')"
    )


def checks_sql(source: RegisterSource) -> tuple[str, str, dict[str, str]]:
    """The parsed values (a select list over `r`), the check (a lateral over `r` and the parsed
    values `n`) and the SQL of each field.

    The parsed values are computed into a table of their own first (``loaders``), so that each
    is computed once per row however often the check reads it, by parallel workers: a lateral
    subquery kept whole with OFFSET 0 would do the first, but no worker may run one.

    `ok` is true only for rows SQL converts exactly as ``registry.importers`` would; every
    other row goes to Python, which rejects it with its reason or converts it.
    """
    raw = {name: raw_column(source, name) for name in ALL_COLUMNS}
    day, month, year = date_parts_sql(raw["D_REG"], source.date_format)
    present = [name for name in NUMBER_COLUMNS if name in source.columns]
    # A column the variant lacks is NULL outright: PostgreSQL would fold ''::int and fail.
    numbers = ", ".join(
        f"CASE WHEN {_digits_sql(raw[name], 9)} THEN {raw[name]}::int END AS n_{name.lower()}"
        if name in present
        else f"NULL::int AS n_{name.lower()}"
        for name in NUMBER_COLUMNS
    )
    int_ok = " AND ".join(
        [f"({raw[n]} = '' OR n.n_{n.lower()} IS NOT NULL)" for n in present] or ["true"]
    )
    plate = PLATE_LATIN_SQL.format(raw["N_REG_NEW"])
    parsed = f"""{day} AS dd, {month} AS mm, {year} AS yy,
            {plate} AS plate_latin, {numbers}"""
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
            AND octet_length({raw["VIN"]}) = length({raw["VIN"]}), false) AS ok) k"""
    return parsed, check, _values_sql(raw)


def _values_sql(raw: dict[str, str]) -> dict[str, str]:
    """The SQL of each stored field, over the raw columns, the parsed values (n) and the check
    (k)."""
    # One allocation for the 20 fields (no column is NULL: FORCE_NOT_NULL, '' for a missing one).
    hashed = "concat_ws(chr(31), " + ", ".join(raw[name] for name in ALL_COLUMNS) + ")"
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


__all__ = ["NUMBER_COLUMNS", "checks_sql", "raw_column"]
