"""A contact sheet of the end-to-end benchmark's misses, to look at rather than read.

Each missed photo is cut round its labelled plate: the label's box in green, each plate the
reader reported in red, and under it the label and what was read. Whether a plate was not
found, clipped, misread, blurred past reading or pasted over another plate shows at a glance.

`ua_parking_val` is for evaluation only and is never copied anywhere, so its misses are not
drawn: the report's JSON lists them by text. A photo labelled by text alone has no box to cut
round, and is left out for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TILE = (360, 180)  # each photo's cut, fitted into this (width, height)
CAPTION_H = 34
COLUMNS = 3
CONTEXT = 1.5  # the cut reaches this many box sizes past each side of the labelled plate
MIN_CUT = 96  # pixels: a tiny plate is still shown with its surroundings
LABEL = (0, 200, 0)
READ = (230, 0, 0)
NEVER_DRAWN = ("ua_parking",)


def miss_sheet(cases: Sequence[Any], misses: Sequence[dict[str, Any]], path: Path) -> int:
    """Draw the misses (`run_benchmark`'s, each with its `case` index and the reported `boxes`)
    into one PNG at `path`; the number of photos drawn (no file when none)."""
    tiles = [
        _tile(cases[m["case"]], m)
        for m in misses
        if cases[m["case"]].box is not None and not m["group"].startswith(NEVER_DRAWN)
    ]
    if not tiles:
        return 0
    rows = -(-len(tiles) // COLUMNS)
    width, height = TILE[0], TILE[1] + CAPTION_H
    sheet = Image.new("RGB", (COLUMNS * width, rows * height), "white")
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % COLUMNS) * width, (i // COLUMNS) * height))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return len(tiles)


def _tile(case: Any, miss: dict[str, Any]) -> Image.Image:
    """One miss: the cut round the labelled plate, fitted into TILE, with its caption."""
    h, w = case.image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in case.box)
    reach_x = max((x2 - x1) * CONTEXT, (MIN_CUT - (x2 - x1)) / 2, 0)
    reach_y = max((y2 - y1) * CONTEXT, (MIN_CUT - (y2 - y1)) / 2, 0)
    left, top = max(int(x1 - reach_x), 0), max(int(y1 - reach_y), 0)
    right, bottom = min(int(x2 + reach_x) + 1, w), min(int(y2 + reach_y) + 1, h)
    cut = Image.fromarray(np.ascontiguousarray(case.image[top:bottom, left:right]))
    scale = min(TILE[0] / cut.width, TILE[1] / cut.height)
    cut = cut.resize((max(1, round(cut.width * scale)), max(1, round(cut.height * scale))))
    draw = ImageDraw.Draw(cut)

    def on_cut(box: Sequence[float]) -> tuple[float, float, float, float]:
        return tuple((v - o) * scale for v, o in zip(box, (left, top, left, top), strict=True))  # type: ignore[return-value]

    for box in miss.get("boxes", []):
        draw.rectangle(on_cut(box), outline=READ, width=2)
    draw.rectangle(on_cut(case.box), outline=LABEL, width=2)
    tile = Image.new("RGB", (TILE[0], TILE[1] + CAPTION_H), "white")
    tile.paste(cut, ((TILE[0] - cut.width) // 2, 0))
    font = ImageFont.load_default()
    caption = ImageDraw.Draw(tile)
    caption.text((4, TILE[1] + 2), f"{miss['group']}: {miss['want']}", fill=LABEL, font=font)
    read = ", ".join(miss["got"]) or "nothing"
    caption.text((4, TILE[1] + 17), f"read: {read}"[:60], fill=READ, font=font)
    return tile


__all__ = ["miss_sheet"]
