"""US plates: common state serials strictly; vanity plates (2-8 characters) loosely."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(
    code="us",
    # Standard serials of the most populous states (CA 1ABC234, TX/NY ABC1234, FL ABCD12...).
    patterns=(
        "DLLLDDD",
        "LLLDDDD",
        "LLLDDD",
        "DDDLLL",
        "DDDDLL",
        "LLDDDDD",
        "DLLDDD",
        "LLLLDD",
        "DDDLDD",
    ),
    # Any serial or vanity text: valid, but it ranks below a strict fit that needed a fix.
    loose_patterns=tuple("A" * n for n in range(2, 9)),
    loose_factor=0.6,
)
