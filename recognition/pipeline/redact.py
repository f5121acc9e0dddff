"""A copy of a photo fit to publish: every place that may show a plate (`PhotoResult.areas`)
hidden, the plate's outline grown on every side so that a plate the detector cut short is hidden
whole.

    hidden = hide_plates(rgb, [area.corners for area in result.areas], style="blur")

Styles: `blur` coarsens the area into blocks a third of the plate's height (no character
survives it: `python -m recognition.evaluation redact` reads the copies with our reader and with
a generic OCR), then smooths it; `fill` paints it in its own mean colour.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from recognition.pipeline.types import Point

STYLES = ("blur", "fill")
# How far an outline is grown on each side, in plate heights (and never less than MIN_PAD_PX):
# a mask often stops short of a plate's ends (the blue band, a first letter). Chosen with
# `engine.HIDE_MIN_SCORE` on the train split (`python -m recognition.evaluation redact --split
# train`; see there).
HIDE_MARGIN = 0.25
MIN_PAD_PX = 2.0
# The blur's blocks: this share of the plate's height, and never smaller than MIN_BLOCK_PX.
BLOCK_SHARE = 1 / 3
MIN_BLOCK_PX = 4


def grown(quad: np.ndarray, margin: float = HIDE_MARGIN) -> np.ndarray:
    """`quad` (TL, TR, BR, BL) moved out by `margin` plate heights on each side, along the
    plate's own axes (a plate seen from the side stays a slanted quadrilateral)."""
    tl, tr, br, bl = quad.astype(np.float64)
    across = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    width, height = float(np.linalg.norm(across)), float(np.linalg.norm(down))
    pad = max(margin * max(height, 1.0), MIN_PAD_PX)
    if width < 1.0 or height < 1.0:  # a sliver or a point: its box, grown
        low, high = quad.min(axis=0) - pad, quad.max(axis=0) + pad
        return np.array([low, [high[0], low[1]], high, [low[0], high[1]]], np.float32)
    ua, ud = across / width * pad, down / height * pad
    return np.array([tl - ua - ud, tr + ua - ud, br + ua + ud, bl - ua + ud], np.float32)


def plate_height(quad: np.ndarray) -> float:
    tl, tr, br, bl = quad.astype(np.float64)
    return float(np.linalg.norm(((bl - tl) + (br - tr)) / 2))


def hide_plates(
    image: np.ndarray,
    quads: Sequence[Sequence[Point]],
    *,
    style: str = "blur",
    margin: float = HIDE_MARGIN,
) -> np.ndarray:
    """A copy of the RGB uint8 HxWx3 `image` with each quadrilateral (photo pixels) hidden."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, not {style!r}")
    out = image.copy()
    size = image.shape[:2]
    for corners in quads:
        quad = np.asarray(corners, np.float32).reshape(4, 2)
        if not np.isfinite(quad).all():
            continue
        mask, (x, y, w, h) = _area_mask(grown(quad, margin), size)
        if w == 0 or h == 0:
            continue
        patch = out[y : y + h, x : x + w]
        inside = mask[y : y + h, x : x + w] > 0
        if style == "fill":
            patch[inside] = patch[inside].mean(axis=0).round().astype(np.uint8)
            continue
        block = max(MIN_BLOCK_PX, round(plate_height(quad) * BLOCK_SHARE))
        patch[inside] = _coarse(patch, block)[inside]
    return out


def hidden_mask(
    shape: tuple[int, ...], quads: Sequence[Sequence[Point]], margin: float = HIDE_MARGIN
) -> np.ndarray:
    """The pixels `hide_plates` hides on an image of `shape` (height, width, ...): boolean."""
    mask = np.zeros(shape[:2], np.uint8)
    for corners in quads:
        quad = np.asarray(corners, np.float32).reshape(4, 2)
        if np.isfinite(quad).all():
            cv2.fillPoly(mask, [np.round(grown(quad, margin)).astype(np.int32)], 255)
    return mask > 0


def _area_mask(poly: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, ...]]:
    """The polygon's pixels on an image of `size` (height, width), and their bounding box."""
    mask = np.zeros(size, np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 255)
    return mask, tuple(int(v) for v in cv2.boundingRect(mask))


def _coarse(patch: np.ndarray, block: int) -> np.ndarray:
    """The patch in blocks of `block` pixels, each its mean colour, the blocks' edges softened."""
    h, w = patch.shape[:2]
    small = cv2.resize(
        patch, (max(1, round(w / block)), max(1, round(h / block))), interpolation=cv2.INTER_AREA
    )
    blocks = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.GaussianBlur(blocks, (0, 0), sigmaX=block / 3)


__all__ = ["HIDE_MARGIN", "STYLES", "grown", "hidden_mask", "hide_plates"]
