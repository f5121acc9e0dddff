"""US plates: the standard serials of the most populous states, strictly, and other states'
serials as a fallback.

Vanity plates (any 2-8 characters) are not accepted: such a catch-all made car badges and model
names (`KIA`, `TOYOTA`, `SIENNA`) into plates. Fifty states issue dozens of serial layouts, so
`us_state` takes any 5-8 letters and digits with at least one digit, as read (no look-alike
fixes; all-digit serials exist, e.g. Delaware's), and only when no strict serial fits the text as
read: a word (no digit) is never a plate, and a serial is not bent into another state's
layout. Figures with and without it: models/ocr/MODEL_CARD.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat

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

# A fallback serial ranks below a strict one that the OCR's own runner-up supports.
STATE_SERIAL_FACTOR = 0.95


def _has_digits(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    if not any(ch.isdigit() for ch in fitted.text):
        return None
    return Fitted(
        fitted.text,
        fitted.format,
        fitted.char_confidences,
        fitted.factor * STATE_SERIAL_FACTOR,
        fitted.fixes,
    )


STATE_FORMAT = PlateFormat(
    code="us_state",
    patterns=tuple("A" * n for n in range(5, 9)),
    region="us",
    generic=True,
    refine=_has_digits,
)
