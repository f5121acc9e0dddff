"""Flat, front-facing plate images for every supported format, with their exact text.

Every format of the rules in `recognition/pipeline/regions/` (the Ukrainian types and the
neighbours' plates) is drawn with a plausible layout: its band or flag, colours, proportions,
and its rows where the real plate has several. `render_plate(fmt, rng)` returns the image, the
canonical text, the printed rows and where each row lies on the image.
"""

from __future__ import annotations

from recognition.synth.plates.fonts import FONT_CANDIDATES, _font, available_fonts
from recognition.synth.plates.render import (
    FORMATS,
    UK_BLACK,
    UK_COLOURS,
    PlateImage,
    render_plate,
)
from recognition.synth.plates.texts import UA_LETTERS, UA_REGIONS, random_text

# The Ukrainian plate types of the marketplace (2004/2015 series, 1995 series on one and two
# rows, square two-row, motorcycle, trailer, transit and diplomatic plates).
UA_TYPES = tuple(f for f in FORMATS if f.startswith("ua_"))
# Plates of several printed rows.
MULTI_ROW = ("ua_square", "ua_1995_square", "ua_moto")

__all__ = [
    "FONT_CANDIDATES",
    "FORMATS",
    "MULTI_ROW",
    "UA_LETTERS",
    "UA_REGIONS",
    "UA_TYPES",
    "UK_BLACK",
    "UK_COLOURS",
    "PlateImage",
    "_font",
    "available_fonts",
    "random_text",
    "render_plate",
]
