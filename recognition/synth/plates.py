"""Flat, front-facing plate images for every supported format, with their exact text.

Sizes follow the real plates' proportions (520 x 112 mm for the one-line European and Ukrainian
plates, 280 x 200 mm for the square Ukrainian plate, 12 x 6 inch for US plates, 400 x 130 mm for
Brazilian ones, 520 x 111 mm for British ones) at a scale of 2 px per mm, which is larger than
any plate in a listing photo.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

UA_LETTERS = "ABCEHIKMOPTX"
UA_REGIONS = (
    "AA AB AC AE AH AI AK AM AO AP AT AX BA BB BC BE BH BI BK BM BO BT BX CA CB CE CH "
    "KA KB KC KE KH KI KK KM KO KP KT KX HA HB HC HE HH HI HK HM HO HP HT HX "
    "IA IB IC IE IH II IK IM IO IP IT IX"
).split()
FORMATS = ("ua_2015", "ua_2004", "ua_square", "eu", "us", "br", "uk")
# British plates: yellow at the rear, white at the front, and the old black plates with white
# letters. They teach the detector that a plate need not be white (the detector missed large
# yellow plates on the Open Images val photos).
UK_BLACK = (20, 20, 20)  # the old black plates carry no band
UK_COLOURS = (
    ((250, 205, 25), (15, 15, 15)),
    ((250, 205, 25), (15, 15, 15)),
    ((245, 245, 240), (15, 15, 15)),
    (UK_BLACK, (235, 235, 230)),
)

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


@dataclass(frozen=True)
class PlateImage:
    image: np.ndarray  # RGB uint8, flat and front-facing
    text: str  # canonical Latin text, no spaces
    format: str
    lines: tuple[str, ...]  # the text of each printed line, top to bottom


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


def random_text(fmt: str, rng: random.Random) -> tuple[str, ...]:
    """Random plate text for a format, as printed lines."""
    digits = string.digits
    if fmt in ("ua_2015", "ua_2004"):
        region = rng.choice(UA_REGIONS)
        suffix = "".join(rng.choice(UA_LETTERS) for _ in range(2))
        return (f"{region}{''.join(rng.choice(digits) for _ in range(4))}{suffix}",)
    if fmt == "ua_square":
        region = rng.choice(UA_REGIONS)
        number = "".join(rng.choice(digits) for _ in range(4))
        suffix = "".join(rng.choice(UA_LETTERS) for _ in range(2))
        return (region, f"{number}{suffix}")
    if fmt == "eu":
        letters = string.ascii_uppercase.replace("Q", "")
        n1, n2, n3 = rng.choice(((2, 3, 2), (2, 4, 0), (3, 4, 0), (1, 4, 2), (2, 3, 3)))
        part = "".join(rng.choice(letters) for _ in range(n1))
        part += "".join(rng.choice(digits) for _ in range(n2))
        part += "".join(rng.choice(letters) for _ in range(n3))
        return (part,)
    if fmt == "us":
        alnum = string.ascii_uppercase + digits
        pattern = rng.choice(("LLLDDDD", "DLLLDDD", "LLLDDD", "DDDLLL", "AAAAAAA", "AAAAAA"))
        out = ""
        for p in pattern:
            pool = {"L": string.ascii_uppercase, "D": digits, "A": alnum}[p]
            out += rng.choice(pool)
        return (out,)
    if fmt == "br":
        letters = string.ascii_uppercase
        head = "".join(rng.choice(letters) for _ in range(3))
        if rng.random() < 0.6:  # the older grey plate, as in the openalpr crops
            return (head + "".join(rng.choice(digits) for _ in range(4)),)
        return (head + rng.choice(digits) + rng.choice(letters) + rng.choice(digits) * 1
                + rng.choice(digits),)  # fmt: skip
    if fmt == "uk":
        letters = string.ascii_uppercase.replace("I", "").replace("Q", "")
        if rng.random() < 0.7:  # the current AB12 CDE
            return ("".join(rng.choice(letters) for _ in range(2))
                    + "".join(rng.choice(digits) for _ in range(2))
                    + "".join(rng.choice(letters) for _ in range(3)),)  # fmt: skip
        return (rng.choice(letters) + "".join(rng.choice(digits) for _ in range(rng.randint(1, 3)))
                + "".join(rng.choice(letters) for _ in range(3)),)  # fmt: skip
    raise ValueError(f"unknown plate format {fmt!r}")


def _spaced(fmt: str, line: str) -> str:
    """How the text is grouped on the physical plate."""
    if fmt in ("ua_2015", "ua_2004") and len(line) == 8:
        return f"{line[:2]} {line[2:6]} {line[6:]}"
    if fmt == "ua_square" and len(line) == 6:
        return f"{line[:4]} {line[4:]}"
    if fmt == "br" and len(line) == 7 and line[4].isdigit():
        return f"{line[:3]}-{line[3:]}"
    if fmt == "uk" and line[1].isdigit():
        return f"{line[:-3]} {line[-3:]}"
    if fmt == "uk" and len(line) == 7:
        return f"{line[:4]} {line[4:]}"
    if fmt == "eu" and len(line) >= 6:
        cut = next((i for i, c in enumerate(line) if c.isdigit()), 2)
        return f"{line[:cut]} {line[cut:]}"
    return line


def _draw_text_fit(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    text: str,
    font_path: str,
    fill: tuple[int, int, int],
) -> None:
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


def _band(draw: ImageDraw.ImageDraw, h: int, width: int, kind: str, rng: random.Random) -> None:
    blue = (0, 51, 153)
    draw.rectangle((6, 6, width, h - 7), fill=blue)
    small = _font(available_fonts()[0], int(h * 0.28))
    countries = ("GB", "UK") if kind == "uk" else ("SK", "CZ", "D", "PL", "RO", "NL", "F", "LT")
    code = {"ua": "UA"}.get(kind, rng.choice(countries))
    if kind == "ua":
        # The Ukrainian flag above the country code.
        fy0, fx0, fw = int(h * 0.16), 14, width - 16
        draw.rectangle((fx0, fy0, fx0 + fw, fy0 + int(h * 0.14)), fill=(0, 87, 183))
        draw.rectangle(
            (fx0, fy0 + int(h * 0.14), fx0 + fw, fy0 + int(h * 0.28)), fill=(255, 215, 0)
        )
    else:
        cx, cy, r = (6 + width) / 2, h * 0.32, h * 0.17
        for k in range(12):
            a = 2 * np.pi * k / 12
            sx, sy = cx + r * np.cos(a), cy + r * np.sin(a)
            draw.ellipse((sx - 2, sy - 2, sx + 2, sy + 2), fill=(255, 204, 0))
    left, top, right, bottom = draw.textbbox((0, 0), code, font=small)
    draw.text(
        ((6 + width - (right - left)) / 2 - left, h * 0.58 - top), code, font=small, fill="white"
    )


def render_plate(fmt: str, rng: random.Random, lines: tuple[str, ...] | None = None) -> PlateImage:
    """Render one clean plate of `fmt`; random text unless `lines` is given."""
    lines = lines or random_text(fmt, rng)
    font_path = rng.choice(available_fonts())
    ink = (15, 15, 15)
    if fmt in ("ua_2015", "ua_2004", "eu"):
        w, h = 1040, 224
        img = Image.new("RGB", (w, h), (245, 245, 240))
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((1, 1, w - 2, h - 2), radius=14, outline=ink, width=6)
        left = 12
        if fmt in ("ua_2015", "eu"):
            _band(draw, h, 90, "ua" if fmt == "ua_2015" else "eu", rng)
            left = 104
        _draw_text_fit(draw, (left, 30, w - 20, h - 30), _spaced(fmt, lines[0]), font_path, ink)
    elif fmt == "ua_square":
        w, h = 560, 400
        img = Image.new("RGB", (w, h), (245, 245, 240))
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((1, 1, w - 2, h - 2), radius=14, outline=ink, width=6)
        _band(draw, h // 2, 90, "ua", rng)
        _draw_text_fit(draw, (110, 24, w - 30, h // 2 - 14), lines[0], font_path, ink)
        _draw_text_fit(
            draw, (24, h // 2 + 10, w - 24, h - 26), _spaced(fmt, lines[1]), font_path, ink
        )
    elif fmt == "us":
        w, h = 610, 305
        bg = rng.choice(((245, 245, 240), (250, 240, 200), (225, 235, 250), (240, 240, 225)))
        ink = rng.choice(((20, 40, 120), (130, 20, 20), (15, 15, 15), (20, 90, 40)))
        img = Image.new("RGB", (w, h), bg)
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((1, 1, w - 2, h - 2), radius=18, outline=ink, width=5)
        state = rng.choice(("CALIFORNIA", "TEXAS", "OHIO", "FLORIDA", "NEW YORK", "ILLINOIS"))
        _draw_text_fit(draw, (120, 14, w - 120, 64), state, font_path, ink)
        _draw_text_fit(draw, (28, 80, w - 28, h - 50), lines[0], font_path, ink)
    elif fmt == "br":
        w, h = 800, 260
        mercosul = not lines[0][4].isdigit()
        bg = (245, 245, 240) if mercosul else (190, 190, 185)
        img = Image.new("RGB", (w, h), bg)
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((1, 1, w - 2, h - 2), radius=14, outline=ink, width=6)
        if mercosul:
            draw.rectangle((6, 6, w - 7, 56), fill=(0, 51, 153))
            _draw_text_fit(draw, (300, 10, 500, 52), "BRASIL", font_path, (255, 255, 255))
        else:
            _draw_text_fit(
                draw, (250, 8, 550, 52), rng.choice(("SP", "RJ", "MG", "PR")), font_path, ink
            )
        _draw_text_fit(draw, (30, 66, w - 30, h - 24), _spaced(fmt, lines[0]), font_path, ink)
    elif fmt == "uk":
        w, h = 1040, 222
        bg, ink = rng.choice(UK_COLOURS)
        img = Image.new("RGB", (w, h), bg)
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((1, 1, w - 2, h - 2), radius=14, outline=ink, width=4)
        left = 20
        if bg != UK_BLACK and rng.random() < 0.5:
            _band(draw, h, 90, "uk", rng)
            left = 104
        _draw_text_fit(draw, (left, 28, w - 24, h - 28), _spaced(fmt, lines[0]), font_path, ink)
    else:
        raise ValueError(f"unknown plate format {fmt!r}")
    return PlateImage(np.asarray(img), "".join(lines), fmt, lines)
