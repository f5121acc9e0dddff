"""Ukrainian transit (temporary) plate: white characters on red; the region as two small digits,
then two letters and four digits: `01 AA 1234` -> `01AA1234`.

Sources: de.wikipedia "Kfz-Kennzeichen (Ukraine)" (via de-academic.com): temporary plates are
white on red, two letters and four digits, preceded by the region as two smaller digits;
faker's uk_UA automotive provider (`temporary_plate`: "01 AA0000", region numbers 01-27).
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat
from recognition.pipeline.regions.ukraine import UA_1995_REGION_DIGITS, UA_LETTERS, UA_REGIONS


def refine_transit(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    text = fitted.text
    ok = text[:2] in UA_1995_REGION_DIGITS and text[2:4] in UA_REGIONS
    return fitted if ok else None


FORMAT = PlateFormat(
    code="ua_transit",
    patterns=("DDLLDDDD",),
    letters=UA_LETTERS,
    refine=refine_transit,
    region="ua",
)
