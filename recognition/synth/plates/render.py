"""Draw a flat, front-facing plate of any format, with its exact text and row positions.

Sizes follow the real plates' proportions at 2 px per mm: 520 x 112 mm for the one-row European
and Ukrainian plates, 280 x 200 mm for the two-row Ukrainian plates, 220 x 174 mm for the
three-row Ukrainian motorcycle plate, 12 x 6 inch for US plates, 400 x 130 mm for Brazilian
ones, 520 x 111 mm for British ones. Ukrainian transit and diplomatic plates are white on red.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from recognition.synth.plates import bands
from recognition.synth.plates.fonts import Box, Colour, available_fonts, draw_text_fit
from recognition.synth.plates.texts import random_text

INK, WHITE = (15, 15, 15), (245, 245, 240)
RED, RED_INK = (190, 25, 35), (250, 250, 250)
UK_BLACK = (20, 20, 20)  # the old black plates carry no band
# British plates: yellow at the rear, white at the front, and the old black plates with white
# letters. They teach the detector that a plate need not be white.
UK_COLOURS = (
    ((250, 205, 25), (15, 15, 15)),
    ((250, 205, 25), (15, 15, 15)),
    ((245, 245, 240), (15, 15, 15)),
    (UK_BLACK, (235, 235, 230)),
)
EU_COUNTRY_CODE = {"pl": "PL", "ro": "RO", "sk": "SK", "hu": "H"}
GENERIC_EU_CODES = ("SK", "CZ", "D", "PL", "RO", "NL", "F", "LT")


@dataclass(frozen=True)
class PlateImage:
    image: np.ndarray  # RGB uint8, flat and front-facing
    text: str  # canonical Latin text, no spaces
    format: str
    lines: tuple[str, ...]  # the text of each printed line, top to bottom
    row_boxes: tuple[tuple[int, int], ...] = ()  # (top, bottom) pixel rows of each printed line

    @property
    def row_fractions(self) -> tuple[float, ...]:
        """Where the rows meet, as shares of the plate's height (empty for one row)."""
        h = self.image.shape[0]
        b = self.row_boxes
        return tuple((b[i][1] + b[i + 1][0]) / 2 / h for i in range(len(b) - 1))


@dataclass
class _Canvas:
    img: Image.Image
    draw: ImageDraw.ImageDraw
    font: str
    rows: list[tuple[int, int]]

    def text(self, box: Box, text: str, fill: Colour = INK) -> None:
        draw_text_fit(self.draw, box, text, self.font, fill)
        self.rows.append((box[1], box[3]))


def _ua_band(c: _Canvas, h: int, width: int, rng: random.Random) -> None:
    # The earlier renderer drew a country code here even for this band; drawing it again keeps
    # seeded sets (the synthetic evaluation photos) identical to those it rendered.
    rng.choice(GENERIC_EU_CODES)
    bands.ua_band(c.draw, h, width)


def _canvas(w: int, h: int, bg: Colour, ink: Colour, font: str, border: int = 6) -> _Canvas:
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((1, 1, w - 2, h - 2), radius=14, outline=ink, width=border)
    return _Canvas(img, draw, font, [])


def _spaced(fmt: str, line: str) -> str:
    """How the text is grouped on the physical plate."""
    if fmt in ("ua_2015", "ua_2004", "ua_trailer"):
        return f"{line[:2]} {line[2:6]} {line[6:]}"
    if fmt == "ua_square" and len(line) == 6:
        return f"{line[:4]} {line[4:]}"
    if fmt == "ua_1995":
        return f"{line[:3]}-{line[3:5]} {line[5:]}"
    if fmt == "ua_transit":
        return f"{line[2:4]} {line[4:]}"  # the region digits are drawn apart, small
    if fmt == "ua_diplomatic":
        head = "".join(ch for ch in line[:3] if ch.isalpha())
        digits = line[len(head) :]
        return " ".join([head, digits[:3], digits[3:]]).strip()
    if fmt == "br" and len(line) == 7 and line[4].isdigit():
        return f"{line[:3]}-{line[3:]}"
    if fmt == "uk":
        return f"{line[:-3]} {line[-3:]}"
    if fmt == "ro":
        cut = 1 if line[1].isdigit() else 2
        return f"{line[:cut]} {line[cut:-3]} {line[-3:]}"
    if fmt == "hu":
        return f"{line[:2]} {line[2:4]}-{line[4:]}" if len(line) == 7 else f"{line[:3]}-{line[3:]}"
    if fmt == "md":  # `ABC 123` (2015) or `DB AU 332` (a district, the series, the number)
        return (
            f"{line[:-5]} {line[-5:-3]} {line[-3:]}" if len(line) == 7 else f"{line[:3]} {line[3:]}"
        )
    if fmt in ("eu", "pl", "sk") and len(line) >= 6:
        cut = next((i for i, c in enumerate(line) if c.isdigit()), 2)
        cut = 3 if fmt == "pl" and line[2].isalpha() and len(line) == 8 else cut
        cut = 2 if fmt in ("pl", "sk") and len(line) == 7 else cut  # sk: the district, the arms
        return f"{line[:cut]} {line[cut:]}"
    return line


def _ua_wide(c: _Canvas, fmt: str, lines: tuple[str, ...], rng: random.Random) -> None:
    h = 224
    if fmt == "ua_2004":
        bands.flag_field(c.draw, h, 90, c.font)
    elif fmt == "ua_1995":
        bands.flag_and_region(c.draw, h, 90, rng.choice(_REGION_DIGITS), c.font)
    else:
        _ua_band(c, h, 90, rng)
    c.text((104, 30, 1020, h - 30), _spaced(fmt, lines[0]))


def _ua_red(c: _Canvas, fmt: str, lines: tuple[str, ...], rng: random.Random) -> None:
    h, line = 224, lines[0]
    left = 30
    if fmt == "ua_transit":  # the region as two smaller digits, raised, before the letters
        draw_text_fit(c.draw, (24, 34, 150, 120), line[:2], c.font, RED_INK)
        left = 160
    c.text((left, 30, 1020, h - 30), _spaced(fmt, line), RED_INK)
    if fmt == "ua_transit":
        c.rows[-1] = (30, h - 30)


def _ua_rows(c: _Canvas, fmt: str, lines: tuple[str, ...], rng: random.Random) -> None:
    w, h = c.img.size
    if fmt == "ua_moto":  # three rows: region prefix (beside the band), digits, series
        _ua_band(c, int(h * 0.33), 70, rng)
        third = h // 3
        c.text((90, 18, w - 40, third - 4), lines[0])
        c.text((24, third + 6, w - 24, 2 * third - 4), lines[1])
        c.text((24, 2 * third + 6, w - 24, h - 20), lines[2])
        return
    if fmt == "ua_1995_square":
        bands.flag_and_region(c.draw, h // 2, 90, rng.choice(_REGION_DIGITS), c.font)
        c.text((110, 24, w - 30, h // 2 - 14), f"{lines[0][:3]}-{lines[0][3:]}")
    else:
        _ua_band(c, h // 2, 90, rng)
        c.text((110, 24, w - 30, h // 2 - 14), lines[0])
    c.text((24, h // 2 + 10, w - 24, h - 26), _spaced(fmt, lines[1]))


def _europe(c: _Canvas, fmt: str, lines: tuple[str, ...], rng: random.Random) -> None:
    h = c.img.size[1]
    if fmt == "md":
        bands.md_band(c.draw, h, 90)
    else:
        code = EU_COUNTRY_CODE.get(fmt) or rng.choice(GENERIC_EU_CODES)
        bands.eu_band(c.draw, h, 90, code)
    c.text((104, 30, 1020, h - 30), _spaced(fmt, lines[0]))


def _us(c: _Canvas, fmt: str, lines: tuple[str, ...], rng: random.Random) -> None:
    w, h = c.img.size
    ink = c.img.getpixel((3, h // 2))
    state = rng.choice(("CALIFORNIA", "TEXAS", "OHIO", "FLORIDA", "NEW YORK", "ILLINOIS"))
    draw_text_fit(c.draw, (120, 14, w - 120, 64), state, c.font, ink)  # type: ignore[arg-type]
    c.text((28, 80, w - 28, h - 50), lines[0], ink)  # type: ignore[arg-type]


def _br(c: _Canvas, fmt: str, lines: tuple[str, ...], rng: random.Random) -> None:
    w, h = c.img.size
    if not lines[0][4].isdigit():  # Mercosul: blue band along the top
        c.draw.rectangle((6, 6, w - 7, 56), fill=bands.BLUE)
        draw_text_fit(c.draw, (300, 10, 500, 52), "BRASIL", c.font, (255, 255, 255))
    else:
        draw_text_fit(c.draw, (250, 8, 550, 52), rng.choice(("SP", "RJ", "MG", "PR")), c.font, INK)
    c.text((30, 66, w - 30, h - 24), _spaced(fmt, lines[0]))


def _uk(c: _Canvas, fmt: str, lines: tuple[str, ...], rng: random.Random) -> None:
    w, h = c.img.size
    bg = c.img.getpixel((w // 2, h // 2))
    ink = c.img.getpixel((3, h // 2))
    left = 20
    if bg != UK_BLACK and rng.random() < 0.5:
        bands.eu_band(c.draw, h, 90, rng.choice(("GB", "UK")))
        left = 104
    c.text((left, 28, w - 24, h - 28), _spaced(fmt, lines[0]), ink)  # type: ignore[arg-type]


_REGION_DIGITS = tuple(f"{n:02d}" for n in range(1, 28))
# format -> (width, height, layout)
_LAYOUTS: dict[str, tuple[int, int, Callable[[_Canvas, str, tuple[str, ...], random.Random], None]]]
_LAYOUTS = {
    **dict.fromkeys(("ua_2015", "ua_2004", "ua_trailer", "ua_1995"), (1040, 224, _ua_wide)),
    **dict.fromkeys(("ua_transit", "ua_diplomatic"), (1040, 224, _ua_red)),
    **dict.fromkeys(("ua_square", "ua_1995_square"), (560, 400, _ua_rows)),
    "ua_moto": (440, 348, _ua_rows),
    **dict.fromkeys(("eu", "pl", "md", "ro", "sk", "hu"), (1040, 224, _europe)),
    "us": (610, 305, _us),
    "br": (800, 260, _br),
    "uk": (1040, 222, _uk),
}
FORMATS = tuple(_LAYOUTS)


def _colours(fmt: str, lines: tuple[str, ...], rng: random.Random) -> tuple[Colour, Colour]:
    if fmt in ("ua_transit", "ua_diplomatic"):
        return RED, RED_INK
    if fmt == "us":
        bg = rng.choice(((245, 245, 240), (250, 240, 200), (225, 235, 250), (240, 240, 225)))
        return bg, rng.choice(((20, 40, 120), (130, 20, 20), (15, 15, 15), (20, 90, 40)))
    if fmt == "br":
        return (WHITE if not lines[0][4].isdigit() else (190, 190, 185)), INK
    if fmt == "uk":
        return rng.choice(UK_COLOURS)
    return WHITE, INK


def render_plate(fmt: str, rng: random.Random, lines: tuple[str, ...] | None = None) -> PlateImage:
    """Render one clean plate of `fmt`; random text unless `lines` is given."""
    if fmt not in _LAYOUTS:
        raise ValueError(f"unknown plate format {fmt!r}")
    lines = lines or random_text(fmt, rng)
    font = rng.choice(available_fonts())
    w, h, layout = _LAYOUTS[fmt]
    bg, ink = _colours(fmt, lines, rng)
    canvas = _canvas(w, h, bg, ink, font, border=4 if fmt == "uk" else 6)
    layout(canvas, fmt, lines, rng)
    return PlateImage(np.asarray(canvas.img), "".join(lines), fmt, lines, tuple(canvas.rows))
