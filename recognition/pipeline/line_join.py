"""Plates the detector found in pieces, joined along their line.

The Mask R-CNN sometimes cuts one plate into detections side by side: its left and right halves,
or the region letters apart from the digits. Each piece reads as a clipped plate (`AX0787` beside
`7CO`) or as nothing. `with_joined` adds, for each run of such pieces, one detection that spans
them all, so the reader also sees the whole plate; the engine then keeps whichever reading of the
plate is whole (`engine._distinct` prefers a reading that extends an overlapping one).

Pieces join when they lie on one line: similar heights, most of the shorter one's height shared,
and at most a character's width of gap between them. Two plates are never that close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from recognition.pipeline.plate_detector import PlateDetection

# Pieces of one plate are about as tall as each other (a lone letter's mask is a little taller
# or shorter than the digits' one).
MAX_HEIGHT_RATIO = 1.7
# Of the shorter piece's height, at least this much is shared with the other piece.
MIN_SHARED_HEIGHT = 0.5
# The gap between pieces, in the taller one's heights: about a character's width.
MAX_GAP = 0.6
# A joined run wider than this (width / height of the boxes' union) is not one plate: a one-line
# plate is 4.6 wide, and the boxes add a margin.
MAX_JOINED_ASPECT = 7.0
# Pieces beyond this many are text on a sign, not a plate.
MAX_PIECES = 4


def _height(box: Sequence[float]) -> float:
    return max(float(box[3] - box[1]), 1e-6)


def on_one_line(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether boxes `a` and `b` (x0, y0, x1, y1) sit side by side on one text line."""
    ha, hb = _height(a), _height(b)
    if max(ha, hb) / min(ha, hb) > MAX_HEIGHT_RATIO:
        return False
    shared = min(a[3], b[3]) - max(a[1], b[1])
    if shared < MIN_SHARED_HEIGHT * min(ha, hb):
        return False
    left, right = (a, b) if a[0] <= b[0] else (b, a)
    gap = right[0] - left[2]
    # Side by side: the right piece starts after the left one's middle, and not too far past it.
    return right[0] > (left[0] + left[2]) / 2 and gap <= MAX_GAP * max(ha, hb)


def _runs(boxes: list[tuple[float, ...]]) -> list[list[int]]:
    """Groups of two or more boxes linked by `on_one_line` (transitively)."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if on_one_line(boxes[i], boxes[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if 2 <= len(g) <= MAX_PIECES]


def joined(pieces: Sequence[PlateDetection]) -> PlateDetection | None:
    """One detection spanning `pieces` (left to right), or None where they cannot be one plate.

    Its corners are the leftmost piece's left edge and the rightmost piece's right edge, so the
    plate's perspective survives; its score is the best piece's.
    """
    boxes = np.asarray([p.box for p in pieces], np.float64)
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    if (x1 - x0) / max(y1 - y0, 1e-6) > MAX_JOINED_ASPECT:
        return None
    first = pieces[int(np.argmin(boxes[:, 0]))].corners
    last = pieces[int(np.argmax(boxes[:, 2]))].corners
    corners = np.asarray([first[0], last[1], last[2], first[3]], np.float32)
    best = max(pieces, key=lambda p: p.score)
    return replace(
        best,
        box=(float(x0), float(y0), float(x1), float(y1)),
        corners=corners,
        corners_from_mask=False,
    )


def with_joined(detections: list[PlateDetection]) -> list[PlateDetection]:
    """The photo's detections, then one joined detection per run of pieces on one line."""
    boxes = [tuple(d.box) for d in detections]
    extra = [joined([detections[i] for i in run]) for run in _runs(boxes)]
    return detections + [d for d in extra if d is not None]
