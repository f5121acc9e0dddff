"""The left band of a plate: EU stars with the country code, Ukraine's flag band (2015), the
national flag field (2004 and 1995 series), Moldova's flag band."""

from __future__ import annotations

import numpy as np
from PIL import ImageDraw

from recognition.synth.plates.fonts import _font, available_fonts, draw_text_fit

BLUE = (0, 51, 153)
UA_BLUE, UA_YELLOW = (0, 87, 183), (255, 215, 0)
MD_RED = (204, 9, 47)


def _code(draw: ImageDraw.ImageDraw, h: int, width: int, code: str, y: float) -> None:
    small = _font(available_fonts()[0], int(h * 0.28))
    left, top, right, _ = draw.textbbox((0, 0), code, font=small)
    draw.text(((6 + width - (right - left)) / 2 - left, y - top), code, font=small, fill="white")


def eu_band(draw: ImageDraw.ImageDraw, h: int, width: int, code: str) -> None:
    """Blue band, the 12 stars and the country code."""
    draw.rectangle((6, 6, width, h - 7), fill=BLUE)
    cx, cy, r = (6 + width) / 2, h * 0.32, h * 0.17
    for k in range(12):
        a = 2 * np.pi * k / 12
        sx, sy = cx + r * np.cos(a), cy + r * np.sin(a)
        draw.ellipse((sx - 2, sy - 2, sx + 2, sy + 2), fill=(255, 204, 0))
    _code(draw, h, width, code, h * 0.58)


def ua_band(draw: ImageDraw.ImageDraw, h: int, width: int) -> None:
    """The 2015 band: blue, the small Ukrainian flag above `UA`."""
    draw.rectangle((6, 6, width, h - 7), fill=BLUE)
    fy0, fx0, fw = int(h * 0.16), 14, width - 16
    draw.rectangle((fx0, fy0, fx0 + fw, fy0 + int(h * 0.14)), fill=UA_BLUE)
    draw.rectangle((fx0, fy0 + int(h * 0.14), fx0 + fw, fy0 + int(h * 0.28)), fill=UA_YELLOW)
    _code(draw, h, width, "UA", h * 0.58)


def md_band(draw: ImageDraw.ImageDraw, h: int, width: int) -> None:
    """Moldova's band (2015): blue, the blue-yellow-red flag above `MD`."""
    draw.rectangle((6, 6, width, h - 7), fill=BLUE)
    fy0, fy1, fx0 = int(h * 0.14), int(h * 0.44), 14
    third = (width - 16) // 3
    for k, colour in enumerate(((0, 70, 174), (255, 210, 0), MD_RED)):
        draw.rectangle((fx0 + k * third, fy0, fx0 + (k + 1) * third, fy1), fill=colour)
    _code(draw, h, width, "MD", h * 0.58)


def flag_field(draw: ImageDraw.ImageDraw, h: int, width: int, font_path: str) -> None:
    """The 2004 series: the national flag as the band, `UA` in black on its yellow half."""
    draw.rectangle((6, 6, width, h // 2), fill=UA_BLUE)
    draw.rectangle((6, h // 2, width, h - 7), fill=UA_YELLOW)
    draw_text_fit(draw, (12, h // 2 + 8, width - 6, h - 16), "UA", font_path, (15, 15, 15))


def flag_and_region(
    draw: ImageDraw.ImageDraw, h: int, width: int, region: str, font_path: str
) -> None:
    """The 1995 series: a small flag with the two-digit region code under it."""
    draw.rectangle((12, 14, width, int(h * 0.3)), fill=UA_BLUE)
    draw.rectangle((12, int(h * 0.3), width, int(h * 0.46)), fill=UA_YELLOW)
    draw_text_fit(draw, (12, int(h * 0.52), width, h - 16), region, font_path, (15, 15, 15))
