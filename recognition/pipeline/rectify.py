"""Plate corners from a predicted mask, and the straightened plate crop for OCR."""

from __future__ import annotations

import math

import cv2
import numpy as np

# Output sizes (width, height). One-line plates are about 4.6:1, Ukrainian square ones 1.4:1;
# a quadrilateral whose width/height is below SQUARE_ASPECT is treated as a two-line plate.
WIDE_SIZE = (256, 56)
SQUARE_SIZE = (196, 140)
SQUARE_ASPECT = 2.3
MASK_THRESHOLD = 0.5
# A mask covering less than this share of its box is noise: fall back to the box.
MIN_MASK_FILL = 0.2
# Mask fragments smaller than this share of the largest fragment are dropped as specks.
MIN_FRAGMENT = 0.15


def order_corners(points: np.ndarray) -> np.ndarray:
    """Order 4 points as top-left, top-right, bottom-right, bottom-left.

    Points are sorted clockwise (in image coordinates) around their centroid; the cyclic start is
    the one whose first edge points most nearly along +x, which is the top edge for any
    rotation up to 45 degrees, whatever order or mirroring the input came in.
    """
    pts = np.asarray(points, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen because y points down
    best, best_angle = 0, math.inf
    for k in range(4):
        dx, dy = pts[(k + 1) % 4] - pts[k]
        angle = abs(math.atan2(dy, dx))
        if angle < best_angle:
            best, best_angle = k, angle
    return np.roll(pts, -best, axis=0)


def box_corners(box: np.ndarray | tuple[float, ...]) -> np.ndarray:
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)


def _quad_from_hull(hull: np.ndarray) -> np.ndarray | None:
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.02, 0.04, 0.06, 0.08, 0.12, 0.16):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    return None


def corners_from_mask(
    mask: np.ndarray, box: np.ndarray | tuple[float, ...]
) -> tuple[np.ndarray, bool]:
    """Corners (TL, TR, BR, BL) of the plate outlined by `mask` (HxW, probabilities or 0/1).

    Fragments of one plate (a mask split by a bolt or glare) are joined through their convex
    hull; a mask clipped by the image border keeps its visible quadrilateral. Returns
    (corners, from_mask); from_mask is False when the mask was unusable and the box was used.
    """
    binary = (np.asarray(mask) >= MASK_THRESHOLD).astype(np.uint8)
    x1, y1, x2, y2 = (float(v) for v in box)
    box_area = max((x2 - x1) * (y2 - y1), 1.0)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return box_corners(box), False
    areas = np.array([cv2.contourArea(c) for c in contours])
    keep = [c for c, a in zip(contours, areas, strict=True) if a >= MIN_FRAGMENT * areas.max()]
    hull = cv2.convexHull(np.concatenate(keep))
    if cv2.contourArea(hull) < MIN_MASK_FILL * box_area:
        return box_corners(box), False
    quad = _quad_from_hull(hull)
    if quad is None:
        quad = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)
    return order_corners(quad), True


def is_square(corners: np.ndarray) -> bool:
    width, height = _sides(corners)
    return width / max(height, 1e-6) < SQUARE_ASPECT


def grow_corners(corners: np.ndarray, pad_x: float, pad_y: float) -> np.ndarray:
    """The quadrilateral widened by `pad_x` of its width on each side, `pad_y` of its height."""
    tl, tr, br, bl = np.asarray(corners, np.float32).reshape(4, 2)
    across = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    sx = np.array([-1, 1, 1, -1], np.float32)[:, None]
    sy = np.array([-1, -1, 1, 1], np.float32)[:, None]
    return np.asarray([tl, tr, br, bl]) + sx * across * pad_x + sy * down * pad_y


def _sides(corners: np.ndarray) -> tuple[float, float]:
    tl, tr, br, bl = np.asarray(corners, np.float32).reshape(4, 2)
    width = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return width, height


def grow_to_aspect(corners: np.ndarray, aspect: float, max_grow: float) -> np.ndarray:
    """A one-line plate's quadrilateral lengthened along its long axis towards `aspect`.

    Masks often stop short of a plate's ends (most often at the blue band), which cuts off its
    first or last characters. A one-line European or Ukrainian plate is 4.6 times as wide as it
    is tall, so a narrower quadrilateral is widened, on both sides since the missing end is not
    known, by at most `max_grow` of its width. Square plates (below SQUARE_ASPECT) are left alone.
    """
    width, height = _sides(corners)
    ratio = width / max(height, 1e-6)
    if ratio < SQUARE_ASPECT or ratio >= aspect:
        return np.asarray(corners, np.float32)
    grow = min(aspect / ratio - 1.0, max_grow)
    return grow_corners(corners, grow / 2, 0.0)


# Margin added around the mask's quadrilateral before straightening (share of width, height).
# The reader now trains on crops cut through the detector with a 4 %/8 % margin varied by jitter
# (recognition/training/reader/detected_crops.py). Measured with those weights
# (`evaluate e2e --crop-pad`, 56 real / 50 synthetic val photos): no margin 0.804 / 0.840,
# 2 %/4 % 0.786 / 0.880, 4 %/8 % 0.750 / 0.880. Real photos decide (they are what users send),
# so no margin.
CROP_PAD = (0.0, 0.0)
# A one-line plate's crop is lengthened towards this width/height (520 x 112 mm plates), by at
# most WHOLE_PLATE_GROW of its width, so that a mask stopping short of the plate's ends does not
# cut characters off (grow_to_aspect). 0 turns it off.
WHOLE_PLATE_ASPECT = 4.6
WHOLE_PLATE_GROW = 0.3


def plate_crop(
    image: np.ndarray,
    corners: np.ndarray,
    pad: tuple[float, float] = CROP_PAD,
    grow: float = WHOLE_PLATE_GROW,
) -> np.ndarray:
    """The straightened crop the reader gets for a detected plate: the one crop path, used by
    the engine and by everything that measures or fits it."""
    if grow:
        corners = grow_to_aspect(corners, WHOLE_PLATE_ASPECT, grow)
    return rectify(image, grow_corners(corners, *pad))


def rectify(
    image: np.ndarray, corners: np.ndarray, size: tuple[int, int] | None = None
) -> np.ndarray:
    """The plate straightened to a fixed size: WIDE_SIZE, or SQUARE_SIZE for two-line plates."""
    corners = np.asarray(corners, np.float32).reshape(4, 2)
    if size is None:
        size = SQUARE_SIZE if is_square(corners) else WIDE_SIZE
    w, h = size
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, dst)
    return cv2.warpPerspective(
        image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two convex quadrilaterals."""
    pa = np.asarray(a, np.float32).reshape(4, 2)
    pb = np.asarray(b, np.float32).reshape(4, 2)
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = cv2.contourArea(pa) + cv2.contourArea(pb) - inter
    return float(inter / union) if union > 0 else 0.0
