"""Moldovan plates: since 2015 three letters and three digits (`ABC 123`) beside a blue band with
the Moldovan flag over `MD`; before 2015 a district code (C or K for Chisinau, else two letters),
two series letters and three digits (`C AB 123`, `BL AB 123`); 520 x 112 mm.

Sources: Wikipedia "Vehicle registration plates of Moldova" (mirrors iiab.live, ipfs dweb.link
with the district code list, liquisearch.com).
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat

DISTRICTS = frozenset(
    (
        "AN BE BL BR BS CC CG CH CL CM CN CO CR CS CT CU DB DN DR ED FL FR GE GL GR HN IL LV NS "
        "OC OR RB RS SD SG SL SR ST SV TA TL UN"
    ).split()
)


def refine_district(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    if len(fitted.text) == 6:  # ABC123 (2015) or C/K + two letters + 3 digits: any letters
        return fitted
    return fitted if fitted.text[:2] in DISTRICTS else None


FORMAT = PlateFormat(code="md", patterns=("LLLDDD", "LLLLDDD"), refine=refine_district, region="eu")
