"""Fonts and fitted text for the plate renderer."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

# Debian font packages installed by the README's setup; the first found is used, the others
# add variety to training.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSansNarrow-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]


def available_fonts() -> list[str]:
    fonts = [p for p in FONT_CANDIDATES if Path(p).exists()]
    if not fonts:
        fonts = [str(p) for p in sorted(Path("/usr/share/fonts").rglob("*Bold*.ttf"))[:3]]
    if not fonts:
        raise RuntimeError("no TrueType font found: install fonts-roboto or fonts-dejavu-core")
    return fonts


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def draw_text_fit(
    draw: ImageDraw.ImageDraw, box: Box, text: str, font_path: str, fill: Colour
) -> None:
    """Draw `text` as large as fits in `box`, centred."""
    x0, y0, x1, y1 = box
    size = y1 - y0
    font = _font(font_path, size)
    while size > 8:
        font = _font(font_path, size)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= (x1 - x0) and bottom - top <= (y1 - y0) * 1.05:
            break
        size -= 2
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    tx = x0 + ((x1 - x0) - (right - left)) / 2 - left
    ty = y0 + ((y1 - y0) - (bottom - top)) / 2 - top
    draw.text((tx, ty), text, font=font, fill=fill)
