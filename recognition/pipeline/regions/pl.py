"""Polish plates (since 2000): a two- or three-letter county code whose first letter is the
voivodeship, then four or five characters of which at most two are letters; EU band with `PL`;
520 x 114 mm.

Sources: Wikipedia "Vehicle registration plates of Poland" (mirror wiki.1209k.com);
skoda-storyboard.com "Deciphering number plates: Poland" (seven to eight characters; first group
two to three letters; second group four to five characters, up to two letters);
ssplj.blogspot.com (the 16 voivodeship letters B C D E F G K L N O P R S T W Z).
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat

VOIVODESHIPS = frozenset("BCDEFGKLNOPRSTWZ")
# County code of two letters + 5 characters, or of three letters + 4 or 5 characters.
PATTERNS = (
    "LLDDDDD", "LLDDDDL", "LLDDDLL", "LLDLDDD", "LLDLLDD",
    "LLLLDDD", "LLLDDLL", "LLLDLDD", "LLLDDLD", "LLLDLLD", "LLLLLDD",
    "LLLDDDDD", "LLLDDDDL", "LLLDDDLL",
)  # fmt: skip


def refine_voivodeship(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    return fitted if fitted.text[0] in VOIVODESHIPS else None


FORMAT = PlateFormat(code="pl", patterns=PATTERNS, refine=refine_voivodeship, region="eu")
