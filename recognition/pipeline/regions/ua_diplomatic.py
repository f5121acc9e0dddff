"""Ukrainian diplomatic plates: white on red; a rank prefix (CDP ambassador, DP embassy staff,
CC consular corps, S service staff, D on the older plates), the mission's three-digit code
(001-199 embassies, 200-299 international organisations, 300-399 consulates) and a three-digit
serial; the ambassador's plate has no serial: `CDP 001`, `DP 012 345`, `S 250 001`.

Sources: Wikipedia "Vehicle registration plates of Ukraine" (via wikisum.wiki): white-on-red,
prefixes CDP/DP/CC/S with a three-digit code; dca.scrieunblog.com (Romanian summary of the same
article): D, three-digit country code in those ranges, three-digit serial; faker's uk_UA provider
(`diplomatic_license_plate`: "CDP 000", "DP 000 000", "S 000 000").
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat

PREFIXES = ("CDP", "DP", "CC", "S", "D")
# The ambassador's plate carries the code alone.
CODE_ONLY = ("CDP",)
MAX_CODE_FIRST_DIGIT = "3"


def refine_diplomatic(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    text = fitted.text
    head = "".join(ch for ch in text[:3] if ch.isalpha())
    digits = text[len(head) :]
    if head not in PREFIXES or not digits.isdigit() or digits[0] > MAX_CODE_FIRST_DIGIT:
        return None
    if len(digits) != (3 if head in CODE_ONLY else 6):
        return None
    return fitted


FORMAT = PlateFormat(
    code="ua_diplomatic",
    patterns=("LLLDDD", "LLDDDDDD", "LDDDDDD"),
    refine=refine_diplomatic,
    region="ua",
)
