"""Ukrainian 1995-2004 series on a two-row plate: the five digits `12345` over the two letters
`AB`; canonical text `12345AB` joins the rows top first.

The series itself is sourced (see `ua_1995`); no drawing of its two-row plate was found, so the
row split (digits over letters) is the layout assumed here.
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ua_1995 import PATTERN_1995
from recognition.pipeline.regions.ukraine import UA_LETTERS

FORMAT = PlateFormat(
    code="ua_1995_square",
    patterns=(PATTERN_1995,),
    letters=UA_LETTERS,
    line_lengths=(5, 2),
    region="ua",
)
