"""Shared machinery of the plate formats: slot patterns, slot-wise confusion fixes, scoring.

A format is a set of slot patterns (`L` letter, `D` digit, `A` either). OCR output is fitted to a
pattern slot by slot: a letter read in a digit slot (or the reverse) is replaced by the OCR's own
runner-up for that character when it fits, else by the fixed look-alike table.

No format accepts arbitrary text: every pattern has a fixed length and fixed letter/digit slots,
so words such as `KIA`, `TOYOTA` or `SIENNA` fit nothing and are not plates.

A plate printed on several rows has `line_lengths` (top to bottom) and a `join_order`: the
printed rows, by index, in the order they make the canonical text (top to bottom unless said).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Letters that OCR reads in a digit slot, and the digit the plate most likely shows.
DIGIT_FIXES = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "T": "1",
    "Z": "2",
    "S": "5",
    "B": "8",
    "G": "6",
}
# Digits read in a letter slot, and the letter most likely shown.
LETTER_FIXES = {"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G", "4": "A", "7": "T"}
# A fix from the look-alike table costs this factor of the reading's score, so that a reading that
# needs no fix wins a tie; the OCR's own runner-up costs its probability ratio instead.
TABLE_FIX_FACTOR = 0.8
LATIN_LETTERS = string.ascii_uppercase
# Plate digits are ASCII: str.isdigit() also holds for fullwidth (as a CJK recogniser writes
# them), Arabic-Indic and superscript digits, which no plate or register key holds.
DIGITS = frozenset(string.digits)

# Per character: the OCR's top-k (char, probability), best first. The first entry is the char read.
CharProbs = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Fitted:
    """A reading fitted to one format."""

    text: str
    format: str
    char_confidences: tuple[float, ...]
    factor: float  # product of fix costs, 1.0 when the OCR text fitted as is
    fixes: int


@dataclass(frozen=True)
class PlateFormat:
    code: str
    patterns: tuple[str, ...]
    letters: str = LATIN_LETTERS
    # Lengths of the printed lines, top to bottom, for plates of several rows; () for one line.
    line_lengths: tuple[int, ...] = ()
    # The printed rows (indices, top = 0) in canonical order; () is top to bottom.
    join_order: tuple[int, ...] = ()
    # The region group the format belongs to (`ua`, `eu`, `us`, `br`).
    region: str = ""
    # A generic format (the catch-most European one) only counts when no country's format fits.
    generic: bool = False
    # Extra check on the fitted text (Ukrainian region prefixes); may repair it or return None.
    refine: Callable[[Fitted, Sequence[CharProbs]], Fitted | None] | None = field(
        default=None, compare=False
    )

    def is_valid(self, text: str) -> bool:
        fitted = self.fit(text)
        return fitted is not None and fitted.text == text and fitted.fixes == 0

    def fit(self, text: str, char_probs: Sequence[CharProbs] | None = None) -> Fitted | None:
        """The best way to read `text` in this format, or None when it cannot be one."""
        probs = list(char_probs) if char_probs else [((ch, 1.0),) for ch in text]
        best: Fitted | None = None
        for pattern in self.patterns:
            if len(pattern) != len(text):
                continue
            fitted = fit_pattern(text, pattern, self.letters, probs, self.code)
            if fitted is not None and self.refine is not None:
                fitted = self.refine(fitted, probs)
            if fitted is not None and (best is None or fitted.factor > best.factor):
                best = fitted
        return best

    @property
    def rows(self) -> int:
        return len(self.line_lengths) or 1

    def _order(self) -> tuple[int, ...]:
        return self.join_order or tuple(range(self.rows))

    def to_canonical(
        self, printed: str, probs: Sequence[CharProbs] = ()
    ) -> tuple[str, tuple[CharProbs, ...]] | None:
        """Rows read top to bottom (concatenated) in canonical order; None if the lengths differ."""
        if not self.line_lengths:
            return printed, tuple(probs)
        if len(printed) != sum(self.line_lengths):
            return None
        cuts = [sum(self.line_lengths[:k]) for k in range(self.rows + 1)]
        spans = [(cuts[k], cuts[k + 1]) for k in self._order()]
        text = "".join(printed[a:b] for a, b in spans)
        out = tuple(p for a, b in spans for p in probs[a:b]) if len(probs) == len(printed) else ()
        return text, out

    def lines(self, text: str) -> tuple[str, ...]:
        """The printed rows, top to bottom, of a canonical text."""
        if not self.line_lengths:
            return (text,)
        rows: dict[int, str] = {}
        start = 0
        for k in self._order():
            n = self.line_lengths[k]
            rows[k] = text[start : start + n]
            start += n
        return tuple(rows[k] for k in range(self.rows))


def _slot_ok(ch: str, slot: str, letters: str) -> bool:
    if slot == "D":
        return ch in DIGITS
    if slot == "L":
        return ch in letters
    return ch in DIGITS or ch in letters


def fit_pattern(
    text: str, pattern: str, letters: str, probs: Sequence[CharProbs], code: str
) -> Fitted | None:
    # Every plate number has digits: a reading whose digit slots hold no digit at all is a word
    # (a badge, a model name), not a plate made unreadable by look-alikes (`LOTOS` is no `L0TOS`).
    read_digits = [ch in DIGITS for ch, s in zip(text, pattern, strict=True) if s == "D"]
    if read_digits and not any(read_digits):
        return None
    out, confs, factor, fixes = [], [], 1.0, 0
    for ch, slot, options in zip(text, pattern, probs, strict=True):
        conf = options[0][1] if options else 1.0
        if _slot_ok(ch, slot, letters):
            out.append(ch)
            confs.append(conf)
            continue
        runner = next(((c, p) for c, p in options[1:] if _slot_ok(c, slot, letters)), None)
        table = (
            DIGIT_FIXES.get(ch) if slot == "D" else LETTER_FIXES.get(ch) if slot == "L" else None
        )
        if table is not None and not _slot_ok(table, slot, letters):
            table = None
        # The OCR's own runner-up costs its probability ratio, the table a fixed factor; the
        # cheaper repair wins.
        runner_cost = runner[1] / max(conf, 1e-6) if runner is not None else 0.0
        if table is not None and TABLE_FIX_FACTOR >= runner_cost:
            # The glyph is clear; only its class was wrong, so the character keeps its confidence.
            out.append(table)
            confs.append(conf)
            factor *= TABLE_FIX_FACTOR
        elif runner is not None:
            out.append(runner[0])
            confs.append(runner[1])
            factor *= min(runner_cost, 1.0)
        else:
            return None
        fixes += 1
    return Fitted("".join(out), code, tuple(confs), factor, fixes)
