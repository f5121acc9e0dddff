"""Contact sheets of a benchmark's misses, to look at rather than read.

`miss_sheet` (`evaluation e2e`): each missed photo cut round its labelled plate, the label's box
in green, each plate the reader reported in red, and under it the label and what was read.
Whether a plate was not found, clipped, misread, blurred past reading or pasted over another
plate shows at a glance. `evaluation read` draws its misread crops with `contact_sheet` too.

`ua_parking_val` is for evaluation only and is never copied anywhere, so its misses are not
drawn: the report's JSON lists them by text. A photo labelled by text alone has no box to cut
round, and is left out for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TILE = (360, 180)  # each picture fitted into this (width, height)
CAPTION_H = 34
COLUMNS = 3
CONTEXT = 1.5  # the cut reaches this many box sizes past each side of the labelled plate
MIN_CUT = 96  # pixels: a tiny plate is still shown with its surroundings
LABEL = (0, 200, 0)
READ = (230, 0, 0)
NEVER_DRAWN = ("ua_parking",)

Colour = tuple[int, int, int]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Tile:
    """One picture of a sheet: boxes outlined on it, and two caption lines under it."""

    image: np.ndarray
    outlines: tuple[tuple[Box, Colour], ...] = ()
    caption: tuple[tuple[str, Colour], ...] = ()


def contact_sheet(tiles: Sequence[Tile], path: Path) -> int:
    """The tiles, COLUMNS a row, in one PNG at `path`; how many (no file when none)."""
    if not tiles:
        return 0
    rows = -(-len(tiles) // COLUMNS)
    width, height = TILE[0], TILE[1] + CAPTION_H
    sheet = Image.new("RGB", (COLUMNS * width, rows * height), "white")
    for i, tile in enumerate(tiles):
        sheet.paste(_drawn(tile), ((i % COLUMNS) * width, (i // COLUMNS) * height))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return len(tiles)


def miss_sheet(cases: Sequence[Any], misses: Sequence[dict[str, Any]], path: Path) -> int:
    """The end-to-end misses (`run_benchmark`'s, each with its `case` index and the reported
    `boxes`) drawn at `path`; the number of photos drawn."""
    tiles = [
        _cut_round_label(cases[m["case"]], m)
        for m in misses
        if cases[m["case"]].box is not None and not m["group"].startswith(NEVER_DRAWN)
    ]
    return contact_sheet(tiles, path)


def _cut_round_label(case: Any, miss: dict[str, Any]) -> Tile:
    """A miss: the photo cut round its labelled plate, the label and the reported boxes on it."""
    h, w = case.image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in case.box)
    reach_x = max((x2 - x1) * CONTEXT, (MIN_CUT - (x2 - x1)) / 2, 0)
    reach_y = max((y2 - y1) * CONTEXT, (MIN_CUT - (y2 - y1)) / 2, 0)
    left, top = max(int(x1 - reach_x), 0), max(int(y1 - reach_y), 0)
    right, bottom = min(int(x2 + reach_x) + 1, w), min(int(y2 + reach_y) + 1, h)

    def on_cut(box: Sequence[float]) -> Box:
        bx1, by1, bx2, by2 = (float(v) for v in box)
        return (bx1 - left, by1 - top, bx2 - left, by2 - top)

    reported = tuple((on_cut(box), READ) for box in miss.get("boxes", []))
    return Tile(
        case.image[top:bottom, left:right],
        (*reported, (on_cut(case.box), LABEL)),
        miss_caption(miss["group"], miss["want"], miss["got"]),
    )


def miss_caption(
    group: str, label: str, read: Sequence[str]
) -> tuple[tuple[str, Colour], tuple[str, Colour]]:
    """A miss's two caption lines: where it is from and its label, then what was read."""
    return (f"{group}: {label}", LABEL), (f"read: {', '.join(read) or 'nothing'}"[:60], READ)


def _drawn(tile: Tile) -> Image.Image:
    """The tile's picture fitted into TILE, its outlines drawn, its caption under it."""
    picture = Image.fromarray(np.ascontiguousarray(tile.image))
    scale = min(TILE[0] / picture.width, TILE[1] / picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    picture = picture.convert("RGB").resize(size)
    draw = ImageDraw.Draw(picture)
    for box, colour in tile.outlines:
        draw.rectangle(tuple(v * scale for v in box), outline=colour, width=2)
    out = Image.new("RGB", (TILE[0], TILE[1] + CAPTION_H), "white")
    out.paste(picture, ((TILE[0] - picture.width) // 2, 0))
    font = ImageFont.load_default()
    caption = ImageDraw.Draw(out)
    for i, (text, colour) in enumerate(tile.caption[:2]):
        caption.text((4, TILE[1] + 2 + 15 * i), text, fill=colour, font=font)
    return out


__all__ = ["Tile", "contact_sheet", "miss_caption", "miss_sheet"]
