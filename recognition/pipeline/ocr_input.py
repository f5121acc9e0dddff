"""How a straightened plate crop becomes the reader's input lines (training and inference).

A plate of several rows is cut into its rows where its ink says the rows are: the horizontal
projection profile (share of ink pixels per image row) is high on a text row and near zero in the
gap between rows. Rows are not at fixed fractions: a Ukrainian square plate's top row is shorter
than its bottom one, a motorcycle plate has three. When the profile shows no clear rows (blur, a
crop cut badly), the crop is cut into even rows, the old 50 % split for two.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# Model input size (height, width) of one text line; every line is stretched to it.
LINE_H, LINE_W = 48, 160
# Where a straightened two-line plate is cut when its rows cannot be found (fraction of height),
# with a small overlap so a slightly misplaced crop keeps whole characters.
SQUARE_SPLIT = 0.5
SQUARE_OVERLAP = 0.06
# A row cut at the gap the profile found keeps this share of the height on each side.
ROW_OVERLAP = 0.03
# The profile ignores the crop's frame and the left band (flag, country code) where it prints.
PROFILE_MARGIN_Y = 0.05
PROFILE_LEFT, PROFILE_RIGHT = 0.2, 0.04
# An image row is ink when its ink share reaches this part of the profile's peak.
INK_ROW = 0.15
# Local threshold: the neighbourhood is 1/INK_BLOCK of the crop's smaller side, and ink is at
# least INK_CONTRAST grey levels darker than its mean.
INK_BLOCK, INK_CONTRAST = 3, 12
# Ink runs closer than this (share of height) are one text row; a row is at least this tall.
MERGE_GAP, MIN_ROW = 0.025, 0.1
MAX_ROWS = 3

Band = tuple[int, int]  # first and last+1 image row of a text row


def _ink(grey: np.ndarray) -> np.ndarray:
    """Ink mask: pixels clearly darker (or, for light-on-dark plates, lighter) than their
    neighbourhood; a local threshold, so a shadow across the plate is not ink."""
    _, dark = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    light_on_dark = dark.mean() > 0.5  # the minority side of Otsu's threshold is the ink
    block = max(3, (min(grey.shape[:2]) // INK_BLOCK) | 1)
    mode = cv2.THRESH_BINARY if light_on_dark else cv2.THRESH_BINARY_INV
    c = -INK_CONTRAST if light_on_dark else INK_CONTRAST
    return cv2.adaptiveThreshold(grey, 1, cv2.ADAPTIVE_THRESH_MEAN_C, mode, block, c)


def row_bands(crop: np.ndarray, *, shadow_free: bool = False) -> list[Band]:
    """Text rows of a straightened plate, top to bottom, from its horizontal projection.

    `shadow_free`: leave out the ink taller than a row can be (`MAX_STROKE`). The edge of a
    shadow across the plate is ink to the local threshold in every image row it crosses, which
    fills the gaps between rows; so does a dark frame. Without them the rows show again, but a
    character touching the edge goes with it, and the same cut finds false rows in a one-row
    plate seen from the side; so it is a second opinion (`shows_rows`), not the cut.
    """
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    h, w = grey.shape[:2]
    y0, y1 = int(h * PROFILE_MARGIN_Y), h - int(h * PROFILE_MARGIN_Y)
    x0, x1 = int(w * PROFILE_LEFT), w - int(w * PROFILE_RIGHT)
    if y1 - y0 < 8 or x1 - x0 < 8:
        return []
    ink = _ink(np.ascontiguousarray(grey[y0:y1, x0:x1]))
    if shadow_free:
        ink = _without_tall_strokes(ink)
    profile = ink.mean(axis=1)
    k = max(1, h // 60)
    profile = np.convolve(profile, np.ones(k) / k, mode="same")
    if profile.max() <= 0:
        return []
    active = profile >= INK_ROW * profile.max()
    runs: list[list[int]] = []
    for y, on in enumerate(active):
        if not on:
            continue
        if runs and y - runs[-1][1] <= max(1, int(MERGE_GAP * h)):
            runs[-1][1] = y + 1
        else:
            runs.append([y, y + 1])
    return [(a + y0, b + y0) for a, b in runs if b - a >= MIN_ROW * h]


# Ink taller than this share of the window is no character of a plate of several rows.
MAX_STROKE = 0.6


def _without_tall_strokes(ink: np.ndarray) -> np.ndarray:
    """The ink mask without its connected pieces taller than a row can be."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    tall = stats[:, cv2.CC_STAT_HEIGHT] > MAX_STROKE * ink.shape[0]
    tall[0] = False  # the background
    return np.where(tall[labels], 0, ink).astype(ink.dtype)


def shows_rows(crop: np.ndarray) -> bool:
    """Whether the crop's ink shows several rows, with or without its tall strokes (a shadow's
    edge across the plate fills the gaps between rows of the plain profile)."""
    return any(2 <= len(row_bands(crop, shadow_free=f)) <= MAX_ROWS for f in (False, True))


def _inner_cuts(bands: Sequence[Band]) -> list[int]:
    return [(bands[i][1] + bands[i + 1][0]) // 2 for i in range(len(bands) - 1)]


def _even_cuts(h: int, rows: int) -> list[int]:
    return [round(h * k / rows) for k in range(rows + 1)]


def split_rows(
    crop: np.ndarray, rows: int | None = None, fractions: Sequence[float] = ()
) -> list[np.ndarray]:
    """The rows of a straightened plate, top to bottom.

    `rows`: how many rows the plate has (None: as many as the profile finds, 2 to 3, else 2).
    `fractions`: where to cut (share of height, between rows) when the profile disagrees with
    `rows`; the default is even rows.
    """
    h = crop.shape[0]
    bands = row_bands(crop)
    found = 2 <= len(bands) <= MAX_ROWS and (rows is None or len(bands) == rows)
    if found:
        return _cut_at(crop, bands)
    n = rows or 2
    if len(fractions) != n - 1:
        return _even_rows(crop, n)
    return _cut(crop, [0, *(round(h * f) for f in fractions), h], int(round(h * SQUARE_OVERLAP)))


def _even_rows(crop: np.ndarray, rows: int) -> list[np.ndarray]:
    """The crop cut into `rows` even rows, overlapping a little."""
    h = crop.shape[0]
    return _cut(crop, _even_cuts(h, rows), int(round(h * SQUARE_OVERLAP)))


def _cut_at(crop: np.ndarray, bands: Sequence[Band]) -> list[np.ndarray]:
    """The crop cut midway between its text rows."""
    h = crop.shape[0]
    return _cut(crop, [0, *_inner_cuts(bands), h], int(round(h * ROW_OVERLAP)))


def _cut(crop: np.ndarray, cuts: Sequence[int], pad: int) -> list[np.ndarray]:
    h = crop.shape[0]
    return [crop[max(0, cuts[i] - pad) : min(h, cuts[i + 1] + pad)] for i in range(len(cuts) - 1)]


def row_splits(crop: np.ndarray) -> list[list[np.ndarray]]:
    """The ways to read a plate that may hold several rows: the rows its ink shows, then even
    cuts into each other number of rows (all of them when the ink shows none).

    A shadow's edge or blur can join two rows into one band: a motorcycle plate's `8869` and
    `BP` then read as one row, and its three rows as two. Hence the even cuts, read beside the
    ink's rows. With `shows_rows` deciding which crops are read as rows, on synthetic square
    crops (100 a type, reader alone) they read 5 more motorcycle plates right, 85 to 90, and no
    square plate fewer; on 120 real train photos, whose square crops are mostly not plates, the
    reader reads 15.9 lines a photo instead of 12.0.
    """
    bands = row_bands(crop)
    found = len(bands) if 2 <= len(bands) <= MAX_ROWS else 0
    evens = [_even_rows(crop, n) for n in range(2, MAX_ROWS + 1) if n != found]
    return [_cut_at(crop, bands), *evens] if found else evens


def split_lines(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top and bottom line of a straightened two-line plate."""
    top, bottom = split_rows(crop, rows=2)
    return top, bottom


def to_line_input(line: np.ndarray) -> np.ndarray:
    """Grey line image at the model's input size (uint8 LINE_H x LINE_W)."""
    grey = cv2.cvtColor(line, cv2.COLOR_RGB2GRAY) if line.ndim == 3 else line
    interp = cv2.INTER_AREA if grey.shape[1] > LINE_W else cv2.INTER_CUBIC
    return cv2.resize(grey, (LINE_W, LINE_H), interpolation=interp)
