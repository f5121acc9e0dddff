"""All plate formats, and the choice of the best canonical reading among OCR candidates.

Ranking: a reading that fits a format of the active regions beats one that fits none; among
those, the higher score wins. A score is the OCR's sequence probability times the cost of the
fixes the format needed, times the crop's prior for that format (colour band, rows).

Text that fits no active format is kept only as an invalid reading (`valid=False`, format
`unknown`): the engine does not report it as a plate. There is no catch-all format.

Formats that genuinely overlap (the same text is valid in both) are listed in `OVERLAPS`; the
crop's hint decides between them, and on a tie the format listed first in `FORMATS` wins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from recognition.pipeline.regions import (
    br,
    eu,
    hu,
    md,
    pl,
    ro,
    sk,
    ua_1995,
    ua_1995_square,
    ua_2004,
    ua_2015,
    ua_diplomatic,
    ua_moto,
    ua_square,
    ua_trailer,
    ua_transit,
    uk,
    ukraine,
    us,
)
from recognition.pipeline.regions.rules import CharProbs, PlateFormat
from recognition.pipeline.regions.text import normalise_plate
from recognition.pipeline.types import Alternative

# Order matters on a tie between overlapping formats: the first listed wins.
FORMATS: dict[str, PlateFormat] = {
    f.code: f
    for f in (
        ua_2015.FORMAT, ua_2004.FORMAT, ua_square.FORMAT, ua_moto.FORMAT, ua_trailer.FORMAT,
        ua_1995.FORMAT, ua_1995_square.FORMAT, ua_transit.FORMAT, ua_diplomatic.FORMAT,
        pl.FORMAT, sk.FORMAT, ro.FORMAT, md.FORMAT, hu.FORMAT, uk.FORMAT, eu.FORMAT,
        us.FORMAT, us.STATE_FORMAT, br.FORMAT,
    )
}  # fmt: skip
# Kept for callers that looked formats up by code; there is no `unknown` catch-all any more.
ALL_FORMATS: dict[str, PlateFormat] = FORMATS
UNKNOWN = "unknown"
# Pairs of one-row formats whose valid texts genuinely intersect (checked on rendered samples).
OVERLAPS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair.split("/"))
    for pair in (
        # Same Ukrainian number, three plate designs: the hint's band and rows decide.
        "ua_2015/ua_2004", "ua_2015/ua_trailer", "ua_2004/ua_trailer",
        # LLDDDLL: Polish `XY 123AB` and the Slovak plate.
        "pl/sk",
        # LLLDDD: the 2015 Moldovan plate and the 1990-2022 Hungarian one, and US serials.
        "md/hu", "md/us", "hu/us",
        # LLLLDDD: the old Moldovan district plate, the 2022 Hungarian one and Polish `XYZ A123`.
        "md/hu", "md/pl", "hu/pl",
        # LLDDLLL: Romanian county plates and current British ones.
        "ro/uk",
        # LLLDDDD: Brazilian grey plates and US serials; LLDDDDD: Polish and US serials;
        # LLLDLDD: Brazilian Mercosul plates and Polish `XYZ 1A23`.
        "br/us", "pl/us", "pl/br",
        # CDP + 3 digits is also an LLLDDD plate.
        "ua_diplomatic/md", "ua_diplomatic/hu", "ua_diplomatic/us",
    )
)  # fmt: skip
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
    two_line: bool = False  # the crop may hold several rows (it is square)
    rows: int = 0  # the rows the candidates were read as (0: one, or two when two_line)

    @property
    def row_count(self) -> int:
        return self.rows or (2 if self.two_line else 1)


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


def _fits(cand: Candidate, hint: FormatHint, formats: Collection[str]) -> list[Resolved]:
    text = normalise_plate(cand.text)
    probs = (
        cand.char_probs if len(cand.char_probs) == len(text) else tuple(((ch, 1.0),) for ch in text)
    )
    out: list[Resolved] = []
    exact = False  # a country's own format fits the text as read
    for generic in (False, True):
        if generic and exact:
            break  # the generic format must not overrule a country's reading of the same text
        for code, fmt in FORMATS.items():
            if code not in formats or fmt.generic != generic:
                continue
            # Rows read separately are joined top to bottom; a format of as many rows puts
            # them in its canonical order.
            if fmt.rows != hint.row_count:
                continue
            canonical = fmt.to_canonical(text, probs)
            if canonical is None:
                continue
            fitted = fmt.fit(*canonical)
            if fitted is None:
                continue
            exact = exact or (fitted.fixes == 0 and fitted.text == canonical[0])
            conf = min(1.0, cand.score * fitted.factor)
            score = conf * hint.priors.get(code, DEFAULT_PRIOR)
            out.append(
                Resolved(fitted.text, code, conf, fitted.char_confidences, True, score, cand.source)
            )
            if fmt.refine is ukraine.refine_prefix:
                out += _other_prefixes(out[-1], canonical[1])
    confs = tuple(p[0][1] if p else 1.0 for p in probs)
    out.append(
        Resolved(text, UNKNOWN, cand.score, confs, False, cand.score * UNKNOWN_FACTOR, cand.source)
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


def resolve(
    candidates: Sequence[Candidate],
    hint: FormatHint | None = None,
    formats: Collection[str] | None = None,
) -> Resolved:
    """The best canonical reading of one plate and up to three alternatives (valid first).

    `formats` are the format codes allowed (see `regions.region_formats`); None allows all.
    """
    hint = hint or FormatHint()
    allowed = FORMATS.keys() if formats is None else formats
    readings = [r for cand in candidates if cand.text for r in _fits(cand, hint, allowed)]
    if not readings:
        return Resolved("", UNKNOWN, 0.0, (), False, 0.0, "none")
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
    rule = FORMATS.get(fmt)
    if rule is None:
        return None
    fitted = rule.fit(normalise_plate(text))
    return fitted.text if fitted else None
