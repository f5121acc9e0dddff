"""US plates: the standard serials of the most populous states, strictly.

Vanity plates (any 2-8 characters) are not accepted: such a catch-all made car badges and model
names (`KIA`, `TOYOTA`, `SIENNA`) into plates.
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(
    code="us",
    # CA 1ABC234, TX/NY ABC1234, FL ABCD12...
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
    region="us",
)
