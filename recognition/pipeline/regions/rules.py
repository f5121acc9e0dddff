"""Shared machinery of the plate formats: slot patterns, slot-wise confusion fixes, scoring.

A format is a set of slot patterns (`L` letter, `D` digit, `A` either). OCR output is fitted to a
pattern slot by slot: a letter read in a digit slot (or the reverse) is replaced by the OCR's own
runner-up for that character when it fits, else by the fixed look-alike table.
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
    # Patterns that accept almost anything (US vanity plates): a fit costs `loose_factor`, so a
    # strict pattern wins even after a look-alike fix.
    loose_patterns: tuple[str, ...] = ()
    loose_factor: float = 1.0
    # Lengths of the printed lines, top to bottom, for two-line plates; () for one line.
    line_lengths: tuple[int, ...] = ()
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
        patterns = [(p, 1.0) for p in self.patterns] + [
            (p, self.loose_factor) for p in self.loose_patterns
        ]
        for pattern, cost in patterns:
            if len(pattern) != len(text):
                continue
            fitted = fit_pattern(text, pattern, self.letters, probs, self.code)
            if fitted is not None and self.refine is not None:
                fitted = self.refine(fitted, probs)
            if fitted is not None and cost != 1.0:
                fitted = Fitted(
                    fitted.text,
                    fitted.format,
                    fitted.char_confidences,
                    fitted.factor * cost,
                    fitted.fixes,
                )
            if fitted is not None and (best is None or fitted.factor > best.factor):
                best = fitted
        return best

    def lines(self, text: str) -> tuple[str, ...]:
        if not self.line_lengths:
            return (text,)
        out, start = [], 0
        for n in self.line_lengths:
            out.append(text[start : start + n])
            start += n
        return tuple(out)


def _slot_ok(ch: str, slot: str, letters: str) -> bool:
    if slot == "D":
        return ch.isdigit()
    if slot == "L":
        return ch in letters
    return ch.isdigit() or ch in letters


def fit_pattern(
    text: str, pattern: str, letters: str, probs: Sequence[CharProbs], code: str
) -> Fitted | None:
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
