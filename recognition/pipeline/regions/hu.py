"""Hungarian plates: `ABC-123` (1990 - June 2022) and, since 1 July 2022, `AA AA-123` (four
letters, three digits); EU band with `H`.

Sources: Wikipedia "Vehicle registration plates of Hungary" (via wikisum.wiki);
dailynewshungary.com and ungarnheute.hu on the 2022 format.
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(code="hu", patterns=("LLLDDD", "LLLLDDD"), region="eu")
