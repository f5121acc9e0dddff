"""Ukrainian plate of the 2015 standard: `AA 1234 BB`, a blue band at the left with the small
flag over `UA`; 520 x 112 mm (see `ukraine` for the sources)."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS, UA_PATTERN, refine_prefix

FORMAT = PlateFormat(
    code="ua_2015", patterns=(UA_PATTERN,), letters=UA_LETTERS, refine=refine_prefix, region="ua"
)
