"""OCR-confusion-tolerant plate keys for the moderator's plate search.

A search for ``AA1234BB`` must find a flag whose reading says ``AA1234B8``: both sides are
folded onto one "confusion key" where every character that OCR mixes up with a digit becomes
that digit. The same fold runs in Python (for the typed query) and in PostgreSQL (over
``Flag.plate_text``, backed by an expression index from this app's migrations), so the two
definitions below must stay character-for-character identical.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Func, Value
from django.db.models.fields import CharField

# Pairs of (look-alike, what it folds to). Letters fold onto the digit OCR mistakes them for;
# Cyrillic look-alikes fold like their Latin twins. Lower case is folded explicitly so the SQL
# side needs no locale-dependent upper() for Cyrillic.
_FOLDS: tuple[tuple[str, str], ...] = (
    ("OQDU", "0000"),
    ("IJL", "111"),
    ("Z", "2"),
    ("S", "5"),
    ("G", "6"),
    ("T", "7"),
    ("B", "8"),
    # Cyrillic twins of Ukrainian plate letters (А В Е І К М Н О Р С Т Х) and common typos.
    ("АЕКМНРСХУ", "AEKMHPCXY"),
    ("ВІЇЫОТ", "811107"),
)

_SEPARATORS = " -_.·|"


def _build_maps() -> tuple[str, str]:
    src: list[str] = []
    dst: list[str] = []
    for letters, targets in _FOLDS:
        for letter, target in zip(letters, targets, strict=True):
            for variant in dict.fromkeys((letter, letter.lower())):
                src.append(variant)
                dst.append(target)
    # Remaining Latin lower case folds to upper case (the folded ones are already listed).
    for code in range(ord("a"), ord("z") + 1):
        ch = chr(code)
        if ch not in src:
            src.append(ch)
            dst.append(ch.upper())
    return "".join(src), "".join(dst)


FOLD_FROM, FOLD_TO = _build_maps()
# PostgreSQL translate() deletes characters of `from` that have no partner in `to`.
SQL_FROM = FOLD_FROM + _SEPARATORS
SQL_TO = FOLD_TO

_TABLE = str.maketrans(FOLD_FROM, FOLD_TO, _SEPARATORS)

# Characters of the folded key that our reader still mistakes for one another, measured:
# `bench/plate_confusions.py` (5,700 plates rendered afresh on the training scenes, reader
# ocr-20261202-1fd32d7e) counted 356 substitutions between keys, and these pairs are each 2 % of
# them or more (0<->1 22, 5<->6 16, 6<->8, 0<->8 and 8<->9 14 each, ...; pairs at random would be
# about 0.2 %). The search ranks such a substitution as half an edit; they are not folded, since
# `5` and `6` are different plates far more often than they are a misreading.
NEAR_LOOK_ALIKES: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in ("01", "56", "68", "08", "89", "23", "HM", "38", "12", "8E", "0C", "KX", "46", "13")
)


def near_look_alikes(a: str, b: str) -> bool:
    """Two characters of a folded key that OCR often mistakes for each other."""
    return frozenset((a, b)) in NEAR_LOOK_ALIKES


def plate_key(text: str) -> str:
    """The confusion key of a plate text: ``"aa 1234 bb"`` -> ``"AA123488"``."""
    return text.translate(_TABLE)


class PlateKey(Func):
    """SQL twin of :func:`plate_key` over a text column (same as the index expression)."""

    function = "translate"
    output_field = CharField()

    def __init__(self, expression: object, **extra: object) -> None:
        super().__init__(expression, Value(SQL_FROM), Value(SQL_TO), **extra)


@dataclass(frozen=True)
class CharMark:
    """One character of a search hit as the moderator sees it beside the typed query."""

    char: str
    # same | look-alike (one character on the key: B and 8) | near (a near look-alike: 5 and 6)
    # | other (another character) | extra (not in the query) | missing (the query's, not here)
    kind: str
    query_char: str = ""  # the query's character at this place, where there is one


def alnum(text: str) -> str:
    """A plate as typed, without separators: upper-case letters and digits only."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


# A substitution of near look-alikes costs this much of an edit (search ranking, marks).
NEAR_LOOK_ALIKE_COST = 0.5


def _swap_cost(a: str, b: str) -> float:
    return 0.0 if a == b else NEAR_LOOK_ALIKE_COST if near_look_alikes(a, b) else 1.0


def lookalike_alignment(a: str, b: str) -> tuple[float, list[tuple[str, int, int]]]:
    """The cheapest edits from key `a` to key `b`, a near look-alike substitution costing
    NEAR_LOOK_ALIKE_COST (a weighted Levenshtein distance), and the alignment that costs it:
    ("equal" | "replace", i, j), ("delete", i, -1) or ("insert", -1, j), in order. Where
    alignments cost the same, characters are paired rather than dropped and added."""
    rows, cols = len(a) + 1, len(b) + 1
    cost = [[0.0] * cols for _ in range(rows)]
    for i in range(1, rows):
        cost[i][0] = float(i)
    for j in range(1, cols):
        cost[0][j] = float(j)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(
                cost[i - 1][j - 1] + _swap_cost(a[i - 1], b[j - 1]),
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
            )
    ops: list[tuple[str, int, int]] = []
    i, j = len(a), len(b)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + _swap_cost(a[i - 1], b[j - 1]):
            ops.append(("equal" if a[i - 1] == b[j - 1] else "replace", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            ops.append(("delete", i - 1, -1))
            i -= 1
        else:
            ops.append(("insert", -1, j - 1))
            j -= 1
    return cost[-1][-1], ops[::-1]


def char_marks(query: str, text: str) -> list[CharMark]:
    """`text`'s characters aligned with `query`'s on their confusion keys
    (`lookalike_alignment`), each marked with how it differs; a character of the query that the
    text lacks is a `missing` mark in its place."""
    q, t = alnum(query), alnum(text)
    q_key, t_key = plate_key(q), plate_key(t)
    if len(q_key) != len(q) or len(t_key) != len(t):  # a character the key drops: no alignment
        return [CharMark(ch, "same") for ch in t]
    marks: list[CharMark] = []
    for tag, i, j in lookalike_alignment(q_key, t_key)[1]:
        if tag == "equal":
            marks.append(CharMark(t[j], "same" if q[i] == t[j] else "look-alike", q[i]))
        elif tag == "replace":
            kind = "near" if near_look_alikes(q_key[i], t_key[j]) else "other"
            marks.append(CharMark(t[j], kind, q[i]))
        elif tag == "insert":
            marks.append(CharMark(t[j], "extra"))
        else:
            marks.append(CharMark(q[i], "missing", q[i]))
    return marks
