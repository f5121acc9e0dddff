"""Ukrainian two-row plate of the current series (cars whose plate recess is square): the region
prefix `AA` (beside the flag band) over `1234 BB`; canonical text joins the rows top first.

The row split (2 characters over 6) is the project's existing layout; the sources found
(see `ukraine`) name the two-row plate but give no drawing, so it was not re-checked.
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS, UA_PATTERN, refine_prefix

FORMAT = PlateFormat(
    code="ua_square",
    patterns=(UA_PATTERN,),
    letters=UA_LETTERS,
    line_lengths=(2, 6),
    refine=refine_prefix,
    region="ua",
)
