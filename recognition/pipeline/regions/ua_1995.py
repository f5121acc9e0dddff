"""Ukrainian 1995-2004 series, one row: `123-45 AB` (five digits, a dash after the third, two
letters); the flag and a small two-digit region code sit at the left and are not part of the
number (Wikipedia, "Vehicle registration plates of Ukraine"; kennzeichen-guide.de).

The two letters are the oblast's series; the full list of 1995 series per oblast was not found
in the sources, so any two of the 12 plate letters are accepted.
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS

PATTERN_1995 = "DDDDDLL"
FORMAT = PlateFormat(code="ua_1995", patterns=(PATTERN_1995,), letters=UA_LETTERS, region="ua")
