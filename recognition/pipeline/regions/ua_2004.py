"""Ukrainian plate of the 2004 standard: `AA 1234 BB`, the national flag field (coat of arms on
blue over `UA` on yellow) at the left; 520 x 112 mm (see `ukraine` for the sources)."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS, UA_PATTERN, refine_prefix

FORMAT = PlateFormat(
    code="ua_2004", patterns=(UA_PATTERN,), letters=UA_LETTERS, refine=refine_prefix, region="ua"
)
