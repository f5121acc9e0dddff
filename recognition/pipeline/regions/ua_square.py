"""Ukrainian two-line square plate: `AA` over `1234 BB`; canonical text joins them top first."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS, UA_PATTERN, refine_prefix

FORMAT = PlateFormat(
    code="ua_square",
    patterns=(UA_PATTERN,),
    letters=UA_LETTERS,
    line_lengths=(2, 6),
    refine=refine_prefix,
)
