"""Plate text in canonical Latin form and in the register's Cyrillic form.

Ukrainian plates use only the 12 Cyrillic letters that look like Latin ones
(А В Е І К М Н О Р С Т Х), so the canonical form is Latin and the mapping is one to one.
"""

from __future__ import annotations

import re

LATIN_TO_CYRILLIC: dict[str, str] = {
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І",
    "K": "К", "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х",
}  # fmt: skip
CYRILLIC_TO_LATIN: dict[str, str] = {v: k for k, v in LATIN_TO_CYRILLIC.items()}
# Cyrillic letters that registers and people also type for the same look-alikes.
CYRILLIC_TO_LATIN.update({"Ї": "I", "Ы": "I", "У": "Y"})

_SEPARATORS = re.compile(r"[\s\-_.·|]+")


def to_latin(text: str) -> str:
    """Map Cyrillic look-alike letters to Latin; other characters pass through upper-cased."""
    return "".join(CYRILLIC_TO_LATIN.get(ch, ch) for ch in text.upper())


def to_cyrillic(text: str) -> str:
    """The register's form: Latin look-alike letters become Cyrillic, digits stay."""
    return "".join(LATIN_TO_CYRILLIC.get(ch, ch) for ch in text.upper())


# The same key in one str.translate for clean input: several times quicker, and the register
# import keys millions of rows.
_FAST = str.maketrans({**CYRILLIC_TO_LATIN, **dict.fromkeys(" -_.·|\t")})


def normalise_plate(text: str) -> str:
    """The product's one plate key: upper case, Latin letters, no spaces, dashes or dots."""
    key = text.upper().translate(_FAST)
    if key.isascii() and key.isalnum():
        return key
    return _SEPARATORS.sub("", to_latin(text.strip()))
