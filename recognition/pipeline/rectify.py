"""Plate corners from a predicted mask, and the straightened plate crop for OCR."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
        # The rectangle round a mask at the frame's edge (or in blobs at its corners) can stick
        # out of it: the mask shows nothing there.
        height, width = binary.shape
        quad = np.clip(quad, 0.0, np.array((width - 1, height - 1), np.float32))
    return order_corners(quad), True


def is_square(corners: np.ndarray) -> bool:
    width, height = _sides(corners)
    return width / max(height, 1e-6) < SQUARE_ASPECT


def grow_corners(corners: np.ndarray, pad_x: float, pad_y: float) -> np.ndarray:
    """The quadrilateral widened by `pad_x` of its width on each side, `pad_y` of its height."""
    return grow_ends(corners, pad_x, pad_x, pad_y)


def grow_ends(corners: np.ndarray, left: float, right: float, pad_y: float = 0.0) -> np.ndarray:
    """The quadrilateral lengthened by `left` and `right` of its width at its left and right
    ends (along its own axis, so a slanted plate stays slanted), `pad_y` of its height."""
    tl, tr, br, bl = np.asarray(corners, np.float32).reshape(4, 2)
    across = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    sx = np.array([-left, right, right, -left], np.float32)[:, None]
    sy = np.array([-1, -1, 1, 1], np.float32)[:, None]
    return np.asarray([tl, tr, br, bl]) + sx * across + sy * down * pad_y


def _sides(corners: np.ndarray) -> tuple[float, float]:
    tl, tr, br, bl = np.asarray(corners, np.float32).reshape(4, 2)
    width = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return width, height


def grow_to_aspect(
    corners: np.ndarray, aspect: float, max_grow: float, *, square: bool = False
) -> np.ndarray:
    """A one-line plate's quadrilateral lengthened along its long axis towards `aspect`.

    Masks often stop short of a plate's ends (most often at the blue band), which cuts off its
    first or last characters. A one-line European or Ukrainian plate is 4.6 times as wide as it
    is tall, so a narrower quadrilateral is widened, on both sides since the missing end is not
    known, by at most `max_grow` of its width. Square plates (below SQUARE_ASPECT) are left alone
    unless `square` (where the regions have no plate of two rows).
    """
    width, height = _sides(corners)
    ratio = width / max(height, 1e-6)
    # a quadrilateral without width has no axis to lengthen it along
    if width <= 0 or (ratio < SQUARE_ASPECT and not square) or ratio >= aspect:
        return np.asarray(corners, np.float32)
    grow = min(aspect / ratio - 1.0, max_grow)
    return grow_corners(corners, grow / 2, 0.0)


def red_mask(hsv: np.ndarray) -> np.ndarray:
    """Red pixels of an HSV image (OpenCV hue 0-180 wraps round: both ends)."""
    low = cv2.inRange(hsv, np.array((0, 90, 60), np.uint8), np.array((8, 255, 255), np.uint8))
    high = cv2.inRange(hsv, np.array((170, 90, 60), np.uint8), np.array((180, 255, 255), np.uint8))
    return (low > 0) | (high > 0)


# Share of red pixels on a plate (its outer tenth left out) that marks a red background, not red
# ink as on some US plates (measured in recognition/pipeline/format_hint.py, which uses it too).
RED_SHARE = 0.4
# White-on-red plates (Ukrainian transit and diplomatic) are masked round their big characters:
# the transit plate's two small region digits and a short diplomatic number's margins fall
# outside. Their red background shows where the plate really ends: past each end of the
# quadrilateral, columns are plate while RED_END_SHARE of their rows are red, looked for up to
# RED_END_SEARCH of its width away. Red that runs on that far is a red car or wall, not a plate,
# and so is a plate that would end up wider than RED_END_MAX_ASPECT times the quadrilateral's
# height (which is often only the characters' height: a 4.3:1 plate measures 6.3 then).
# A transit plate's mask can hold only its big characters, about half the plate: the other half
# (the region digits) lies up to its own width away on one side. At 0.6 the walk stopped short
# of such an end (09AE8949 on the train photos, whose mask was 0.55 of the plate) and called the
# red endless. 0.8, 1.0 and 1.5 all read it, and nothing else changed on the 60 train red plates;
# on the 422 real photos (train, val, ua_parking_val) 44 of 3,156 crops moved a pixel or two.
RED_END_SEARCH = 1.0
RED_END_SHARE = 0.5
RED_END_MAX_ASPECT = 8.0
# Red plates are one-line plates; seen from the side their quadrilateral can look square (down
# to 2:1 at 60 degrees of yaw), and is then still read as one line, at WIDE_SIZE.
RED_END_MIN_ASPECT = 1.6
# A white gap narrower than this share of the plate's height is a character's stroke, not its end.
RED_END_GAP = 0.25
_RED_END_ROWS = 24  # the sampled strip's height in pixels


def red_plate_ends(image: np.ndarray, corners: np.ndarray) -> np.ndarray | None:
    """A one-line white-on-red plate's quadrilateral lengthened to the ends of its red
    background, or None when the crop is not such a plate or its ends are not found."""
    corners = np.asarray(corners, np.float32).reshape(4, 2)
    width, height = _sides(corners)
    if height < 4 or width / height < RED_END_MIN_ASPECT:
        return None
    inner = max(int(round(width * _RED_END_ROWS / height)), 8)
    side = int(round(inner * RED_END_SEARCH))
    strip = rectify(
        image,
        grow_ends(corners, RED_END_SEARCH, RED_END_SEARCH),
        (inner + 2 * side, _RED_END_ROWS),
    )
    rows = slice(int(0.1 * _RED_END_ROWS), int(0.9 * _RED_END_ROWS))
    red = red_mask(cv2.cvtColor(strip, cv2.COLOR_RGB2HSV))[rows].mean(axis=0)
    margin = int(0.05 * inner)
    if red[side + margin : side + inner - margin].mean() <= RED_SHARE:
        return None
    plate = red >= RED_END_SHARE
    past_left = _last_red(plate[side - 1 :: -1])  # columns of plate past each end
    past_right = _last_red(plate[side + inner :])
    if past_left is None or past_right is None:
        return None
    if (past_left + inner + past_right) / _RED_END_ROWS > RED_END_MAX_ASPECT:
        return None
    ends = grow_ends(corners, past_left / inner, past_right / inner)
    # Past the photo's edge the strip repeats its edge pixels: red there is no plate, and an
    # end measured on it is not found.
    height, width = image.shape[:2]
    if (ends < 0).any() or (ends > np.array((width, height), np.float32)).any():
        return None
    return ends


# A white-on-red plate is traced round its red background first (`red_plate_outline`): the
# mask's quadrilateral can be a poor one (a triangle, or tilted off the plate's axis) and the
# walk along its axis then misses the ends. The background is looked for in a window round the
# quadrilateral's box, grown by RED_OUTLINE_WINDOW of the box's width and height on each side.
# Red reaching the window's edge runs on (a red car or wall, not a plate); so does red joined to
# something else red, such as a tail light, whose outline fills less than RED_OUTLINE_SOLID of
# its convex hull (a plate's, its characters filled in, fills nearly all of it), or which
# covers more than RED_OUTLINE_MAX_AREA times the quadrilateral. Specks of red
# (noise, brick) narrower than RED_SPECK pixels are opened away first, or they join the plate
# to the red in the scene. Chosen on the synthetic train photos of transit and diplomatic plates
# (`e2e --split train`, 30 of each): 45 of 60 read before, 48 traced (specks kept), 49 with
# specks of 3 pixels opened, 50 with 5 (the two differ in region digits read, not in the cut).
RED_OUTLINE_WINDOW = (0.6, 1.0)
RED_OUTLINE_SOLID = 0.85
RED_OUTLINE_MAX_AREA = 5.0
RED_SPECK = 3
# A mask can also run off the plate onto the car beside it (a headlight, a badge below), so that
# under RED_SHARE of its quadrilateral is red. Down to RED_PART_SHARE it is still traced, but the
# red it finds must lie mostly inside the quadrilateral (RED_PART_INSIDE of its pixels: the plate
# the mask was on, not the red next to it) and hold characters: white holes in the red making at
# least RED_PART_INK of its outline (a tail light or a red car's panel is solid red).
RED_PART_SHARE = 0.15
RED_PART_INSIDE = 0.6
RED_PART_INK = 0.1


def red_plate_quad(image: np.ndarray, corners: np.ndarray) -> np.ndarray | None:
    """A white-on-red plate's quadrilateral measured on its background: traced round it
    (`red_plate_outline`), or else the mask's lengthened to its red ends (`red_plate_ends`);
    None when the quadrilateral does not hold such a plate or neither finds it."""
    outline = red_plate_outline(image, corners)
    return outline if outline is not None else red_plate_ends(image, corners)


def red_plate_outline(image: np.ndarray, corners: np.ndarray) -> np.ndarray | None:
    """The quadrilateral round the red background of the white-on-red plate that `corners`
    lies on, or None when it is not one or its red does not stop round it."""
    corners = np.asarray(corners, np.float32).reshape(4, 2)
    if np.ptp(corners[:, 1]) < 4:
        return None
    share = red_share(image, corners)  # most quadrilaterals: a few pixels' test, no window
    if share <= RED_PART_SHARE:
        return None
    window = _red_window(image, corners, RED_OUTLINE_WINDOW)
    if window is None:
        return None
    red, inside, (left, top, right, bottom) = window
    height, width = image.shape[:2]
    count, labels, stats, _ = cv2.connectedComponentsWithStats(red, connectivity=8)
    overlap = np.bincount(labels[inside > 0], minlength=count)
    overlap[0] = 0  # not red
    k = int(overlap.argmax())
    x, y, w, h = (int(v) for v in stats[k, :4])
    runs_on = (
        (x == 0 and left > 0)
        or (y == 0 and top > 0)
        or (x + w == right - left and right < width)
        or (y + h == bottom - top and bottom < height)
    )
    if runs_on:
        return None
    contours, _ = cv2.findContours(
        (labels == k).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    hull = cv2.convexHull(np.concatenate(contours))
    hull_area = cv2.contourArea(hull)
    if sum(cv2.contourArea(c) for c in contours) < RED_OUTLINE_SOLID * hull_area:
        return None
    if hull_area > RED_OUTLINE_MAX_AREA * max(cv2.contourArea(corners), 1.0):
        return None
    if share <= RED_SHARE and not _red_part_is_plate(labels == k, inside, hull):
        return None
    quad = _quad_from_hull(hull)
    if quad is None:
        quad = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)
    quad = order_corners(quad) + np.array((left, top), np.float32)
    side, tall = _sides(quad)
    if not RED_END_MIN_ASPECT <= side / max(tall, 1e-6) <= RED_END_MAX_ASPECT:
        return None
    return quad


def _red_pixels(rgb: np.ndarray) -> np.ndarray:
    """0/1 red pixels of an RGB image, specks narrower than RED_SPECK opened away."""
    red = red_mask(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)).astype(np.uint8)
    return cv2.morphologyEx(red, cv2.MORPH_OPEN, np.ones((RED_SPECK, RED_SPECK), np.uint8))


def _red_window(
    image: np.ndarray, corners: np.ndarray, grow: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]] | None:
    """The red pixels (`_red_pixels`) of the quadrilateral's box grown by `grow` of its width
    and height on each side, clipped to the image; the quadrilateral's own pixels there (0/1);
    and the window (left, top, right, bottom). None when the window is empty."""
    (x1, y1), (x2, y2) = corners.min(axis=0), corners.max(axis=0)
    height, width = image.shape[:2]
    left, top = int(max(0, x1 - grow[0] * (x2 - x1))), int(max(0, y1 - grow[1] * (y2 - y1)))
    right = int(min(width, x2 + grow[0] * (x2 - x1) + 1))
    bottom = int(min(height, y2 + grow[1] * (y2 - y1) + 1))
    if right <= left or bottom <= top:
        return None
    red = _red_pixels(image[top:bottom, left:right])
    inside = np.zeros_like(red)
    cv2.fillConvexPoly(inside, (corners - (left, top)).astype(np.int32), 1)
    return red, inside, (left, top, right, bottom)


def red_share(image: np.ndarray, corners: np.ndarray) -> float:
    """The share of the quadrilateral's pixels (specks opened away) that are red."""
    window = _red_window(image, corners, (0.0, 0.0))
    if window is None:
        return 0.0
    red, inside, _ = window
    return float(red[inside > 0].mean()) if inside.any() else 0.0


def _red_part_is_plate(plate: np.ndarray, inside: np.ndarray, hull: np.ndarray) -> bool:
    """Red traced from a quadrilateral that is only partly red (`plate`, 0/1 or bool, in the
    window; `inside`, the quadrilateral's pixels there) is the plate it was on: RED_PART_INSIDE
    of it lies inside, and white characters leave RED_PART_INK of its hull not red."""
    pixels = int(plate.sum())
    if pixels == 0 or float(inside[plate > 0].mean()) < RED_PART_INSIDE:
        return False
    filled = np.zeros(plate.shape, np.uint8)
    cv2.fillConvexPoly(filled, hull.reshape(-1, 2).astype(np.int32), 1)
    return 1.0 - pixels / max(int(filled.sum()), 1) >= RED_PART_INK


def _last_red(plate: np.ndarray) -> int | None:
    """How many columns, walking out from the quadrilateral's end, are still the red plate: up to
    the last red one before a gap wider than a stroke (a letter's upright is white from top to
    bottom, so a gap narrower than RED_END_GAP is a character). None when the red runs on."""
    gap = int(RED_END_GAP * _RED_END_ROWS)
    last = 0
    for k, is_red in enumerate(plate):
        if is_red:
            last = k + 1
        elif k - last >= gap:
            return last
    return None


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


@dataclass(frozen=True)
class CropShape:
    """How a detected plate's quadrilateral is lengthened before it is straightened: a one-line
    plate's towards `aspect` (width / height) by at most `grow` of its width (0: kept as the mask
    gave it, and a red plate's ends not looked for either). Where no plate of the regions has two
    rows, a square quadrilateral is first lengthened towards `square_aspect` by at most
    `square_grow` (None: square ones are two-row plates, left alone)."""

    aspect: float = WHOLE_PLATE_ASPECT
    grow: float = WHOLE_PLATE_GROW
    square_aspect: float | None = None
    square_grow: float = 0.0


# Ukrainian and European plates: one-line plates lengthened towards 520 x 112 mm.
WIDE_PLATES = CropShape()
# US plates (12 x 6 in, one row), where the regions are US only: the mask often stops short of
# the first or last character (`FK4W3L` read `K4W31`), and its quadrilateral, below
# SQUARE_ASPECT, was read as a square crop. Lengthened towards 2.4 by at most a fifth first, it
# is read as one line once past SQUARE_ASPECT (and lengthened on as a one-line plate). Chosen on
# the 193 real US train photos, end to end (a probe in the git-ignored runs/): 181 before;
# towards 2.0 / 2.2 / 2.4 / 2.6 / 2.8 by at most 0.3, 181 / 182 / 184 / 180 / 173; towards 2.4
# by 0.2 / 0.3 / 0.4, 185 / 184 / 184; every crop straightened as one line instead, 178.
US_PLATES = CropShape(square_aspect=2.4, square_grow=0.2)


@dataclass(frozen=True)
class PlateCut:
    """What the reader gets for a detected plate, and where on the photo it came from."""

    crop: np.ndarray  # straightened, WIDE_SIZE or SQUARE_SIZE
    quad: np.ndarray  # (4, 2) TL TR BR BL: the quadrilateral straightened
    ends_found: bool  # the quad's ends were measured on the plate (a red plate's background)


def plate_cut(
    image: np.ndarray,
    corners: np.ndarray,
    pad: tuple[float, float] = CROP_PAD,
    shape: CropShape = WIDE_PLATES,
) -> PlateCut:
    """The one crop path, used by the engine and by everything that measures or fits it.

    A white-on-red plate's quadrilateral is measured on its background (`red_plate_quad`) and
    is read as one line; any other plate's is lengthened towards the aspect of `shape`
    (`grow_to_aspect`); then `pad` goes around it. A shape whose `grow` is 0 keeps the mask's
    quadrilateral as it is (both lengthenings off, to measure them).
    """
    ends = red_plate_quad(image, corners) if shape.grow else None
    if ends is not None:
        corners = ends
    elif shape.grow:
        if shape.square_aspect is not None:
            corners = grow_to_aspect(corners, shape.square_aspect, shape.square_grow, square=True)
        corners = grow_to_aspect(corners, shape.aspect, shape.grow)
    quad = grow_corners(corners, *pad)
    crop = rectify(image, quad, WIDE_SIZE if ends is not None else None)
    return PlateCut(crop, quad, ends is not None)


def plate_crop(
    image: np.ndarray,
    corners: np.ndarray,
    pad: tuple[float, float] = CROP_PAD,
    shape: CropShape = WIDE_PLATES,
) -> np.ndarray:
    """The straightened crop the reader gets for a detected plate (`plate_cut`)."""
    return plate_cut(image, corners, pad, shape).crop


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
