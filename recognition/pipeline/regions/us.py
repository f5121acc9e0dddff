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
    # Any serial or vanity text is valid too. It ranks just below a strict fit, so only the OCR's
    # own near-tie runner-up moves a reading to a strict serial: on the real US val crops, the
    # look-alike table's fixes turned vanity plates wrong (exact 0.288 with factor 0.6 against
    # 0.314 with 0.95).
    loose_patterns=tuple("A" * n for n in range(2, 9)),
    loose_factor=0.95,
)
