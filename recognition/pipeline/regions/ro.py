"""Romanian plates: a county code (B for Bucharest, else two letters), two or three digits and
three letters (`CJ 12 ABC`, `B 123 ABC`); EU band with `RO`. Q is never used and the three-letter
group never starts with I or O.

Sources: Wikipedia "Vehicle registration plates of Romania" (en.wikipedia.org, wikimili.com);
kennzeichen-guide.de/international/ro-system.htm (county codes).
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat

COUNTIES = frozenset(
    (
        "AB AG AR B BC BH BN BR BT BV BZ CJ CL CS CT CV DB DJ GJ GL GR HD HR IF IL IS MH MM MS NT "
        "OT PH SB SJ SM SV TL TM TR VL VN VS"
    ).split()
)
LETTERS = "ABCDEFGHIJKLMNOPRSTUVWXYZ"  # no Q


def refine_county(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    text = fitted.text
    county = text[:1] if text[1].isdigit() else text[:2]
    if county not in COUNTIES or text[-3] in "IO":
        return None
    return fitted


FORMAT = PlateFormat(
    code="ro",
    patterns=("LDDLLL", "LDDDLLL", "LLDDLLL", "LLDDDLLL"),
    letters=LETTERS,
    refine=refine_county,
    region="eu",
)
