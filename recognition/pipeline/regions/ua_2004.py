"""Ukrainian plate of the 2004 standard: `AA 1234 BB` with no band (the flag sits in the text)."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS, UA_PATTERN, refine_prefix

FORMAT = PlateFormat(
    code="ua_2004", patterns=(UA_PATTERN,), letters=UA_LETTERS, refine=refine_prefix
)
