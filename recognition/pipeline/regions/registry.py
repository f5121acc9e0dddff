"""All plate formats, and the choice of the best canonical reading among OCR candidates.

Ranking: a reading that fits a known format beats one that fits none; among those, the higher
score wins. A score is the OCR's sequence probability times the cost of the fixes the format
needed, times the crop's prior for that format (colour band, two lines).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from recognition.pipeline.regions import br, eu, ua_2004, ua_2015, ua_square, ukraine, unknown, us
from recognition.pipeline.regions.rules import CharProbs, PlateFormat
from recognition.pipeline.regions.text import normalise_plate
from recognition.pipeline.types import Alternative

FORMATS: dict[str, PlateFormat] = {
    f.code: f
    for f in (ua_2015.FORMAT, ua_2004.FORMAT, ua_square.FORMAT, eu.FORMAT, us.FORMAT, br.FORMAT)
}
ALL_FORMATS: dict[str, PlateFormat] = {**FORMATS, "unknown": unknown.FORMAT}
# Prior of a format the hint says nothing about.
DEFAULT_PRIOR = 0.5
# Text that fits no format keeps this share of its OCR score (it still ranks below any valid one).
UNKNOWN_FACTOR = 0.5
MAX_ALTERNATIVES = 3
# Another valid prefix for an unsure one ranks below the chosen prefix.
OTHER_PREFIX_FACTOR = 0.5


@dataclass(frozen=True)
class Candidate:
    """One raw OCR reading of a plate."""

    text: str
    score: float  # sequence probability under the reader
    char_probs: tuple[CharProbs, ...] = ()  # per character top-k, the read char first
    source: str = "platereader"


@dataclass(frozen=True)
class FormatHint:
    """What the crop alone says about its format."""

    priors: Mapping[str, float] = field(default_factory=dict)  # format -> weight in (0, 1]
    two_line: bool = False


@dataclass(frozen=True)
class Resolved:
    text: str
    format: str
    confidence: float
    char_confidences: tuple[float, ...]
    valid: bool
    score: float
    source: str
    alternatives: tuple[Alternative, ...] = ()


def _fits(cand: Candidate, hint: FormatHint) -> list[Resolved]:
    text = normalise_plate(cand.text)
    probs = (
        cand.char_probs if len(cand.char_probs) == len(text) else tuple(((ch, 1.0),) for ch in text)
    )
    out = []
    for code, fmt in FORMATS.items():
        fitted = fmt.fit(text, probs)
        if fitted is None:
            continue
        factor = fitted.factor
        # Only square Ukrainian plates print two lines; a square US crop is read as one line.
        if hint.two_line != bool(fmt.line_lengths):
            continue
        conf = min(1.0, cand.score * factor)
        score = conf * hint.priors.get(code, DEFAULT_PRIOR)
        out.append(
            Resolved(fitted.text, code, conf, fitted.char_confidences, True, score, cand.source)
        )
        if fmt.refine is ukraine.refine_prefix:
            out += _other_prefixes(out[-1], probs)
    confs = tuple(p[0][1] if p else 1.0 for p in probs)
    out.append(
        Resolved(
            text, "unknown", cand.score, confs, False, cand.score * UNKNOWN_FACTOR, cand.source
        )
    )
    return out


def _other_prefixes(best: Resolved, probs: Sequence[CharProbs]) -> list[Resolved]:
    """Other valid region prefixes for an unsure prefix, as lower-ranked readings."""
    if min(best.char_confidences[:2]) >= ukraine.UNCERTAIN:
        return []
    others = ukraine.prefix_alternatives(best.text[:2], best.char_confidences, probs)
    return [
        dataclasses.replace(
            best,
            text=prefix + best.text[2:],
            confidence=best.confidence * OTHER_PREFIX_FACTOR,
            score=best.score * OTHER_PREFIX_FACTOR,
        )
        for prefix in others[:2]
    ]


def resolve(candidates: Sequence[Candidate], hint: FormatHint | None = None) -> Resolved:
    """The best canonical reading of one plate and up to three alternatives (valid first)."""
    hint = hint or FormatHint()
    readings = [r for cand in candidates if cand.text for r in _fits(cand, hint)]
    if not readings:
        return Resolved("", "unknown", 0.0, (), False, 0.0, "none")
    readings.sort(key=lambda r: (r.valid, r.score), reverse=True)
    best, seen = readings[0], {readings[0].text}
    alternatives: list[Alternative] = []
    for r in readings[1:]:
        if r.text not in seen and len(alternatives) < MAX_ALTERNATIVES:
            seen.add(r.text)
            alternatives.append(Alternative(r.text, round(r.confidence, 4)))
    return dataclasses.replace(best, alternatives=tuple(alternatives))


def is_valid(text: str, fmt: str) -> bool:
    """Whether `text` (canonical Latin) is a well-formed plate of format `fmt` as it stands."""
    rule = FORMATS.get(fmt)
    return rule is not None and rule.is_valid(normalise_plate(text))


def fix_text(text: str, fmt: str) -> str | None:
    """`text` fitted to `fmt` with the slot-wise look-alike fixes, or None when it cannot fit."""
    rule = ALL_FORMATS[fmt]
    fitted = rule.fit(normalise_plate(text))
    return fitted.text if fitted else None
