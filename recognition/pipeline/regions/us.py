"""US plates: common state serials; vanity plates (any 2-8 characters) fit only the loose pattern."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

# Standard serials of the most populous states (CA 1ABC234, TX/NY ABC1234, FL ABCD12...).
STRICT = PlateFormat(
    code="us",
    patterns=("DLLLDDD", "LLLDDDD", "LLLDDD", "DDDLLL", "DDDDLL", "LLDDDDD", "DLLDDD", "LLLLDD", "DDDLDD"),
)
# Any serial or vanity text; a reading that only fits this is valid but ranks below strict fits.
LOOSE_PATTERNS = tuple("A" * n for n in range(2, 9))
FORMAT = PlateFormat(code="us", patterns=STRICT.patterns + LOOSE_PATTERNS)
# Score factor for a reading that fits only a loose pattern.
LOOSE_FACTOR = 0.6
