"""Ukrainian motorcycle plate (2004 standard): 220 x 174 mm with three rows, the region prefix on
top (5632.com.ua, "номерні знаки мотоциклів": three rows, the top one the region code), then the
four digits and the two series letters: `AA` / `1234` / `BB`, joined top to bottom.
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS, UA_PATTERN, refine_prefix

FORMAT = PlateFormat(
    code="ua_moto",
    patterns=(UA_PATTERN,),
    letters=UA_LETTERS,
    line_lengths=(2, 4, 2),
    refine=refine_prefix,
    region="ua",
)
