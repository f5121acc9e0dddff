"""The straightened, enlarged plate crop shown next to each reading."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# Wide enough that a moderator can read every character at a glance on a laptop screen.
CROP_WIDTH = 520
# A European/Ukrainian plate is 520 x 112 mm; the crop keeps that shape unless the corners
# say otherwise (square two-line plates).
DEFAULT_ASPECT = 520 / 112
MAX_PHOTO_BYTES = 40 * 1024 * 1024


def _own_rectify(image: np.ndarray, corners: Sequence[Sequence[float]]) -> np.ndarray:
    src = np.asarray(corners, dtype=np.float32).reshape(4, 2)
    top = np.linalg.norm(src[1] - src[0])
    bottom = np.linalg.norm(src[2] - src[3])
    left = np.linalg.norm(src[3] - src[0])
    right = np.linalg.norm(src[2] - src[1])
    width_px, height_px = max(top, bottom), max(left, right)
    aspect = width_px / height_px if height_px > 1 else DEFAULT_ASPECT
    out_w = CROP_WIDTH
    out_h = max(16, round(out_w / max(aspect, 0.5)))
    dst = np.array(
        [[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], dtype=np.float32
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC)


def _rectify(image: np.ndarray, corners: Sequence[Sequence[float]]) -> np.ndarray:
    """The engine's own rectification when installed, so moderators see what the OCR saw."""
    try:
        from recognition.pipeline.rectify import rectify
    except ImportError:
        return _own_rectify(image, corners)
    try:
        crop = np.asarray(rectify(image, tuple(tuple(map(float, c)) for c in corners)))
    except Exception:  # the crop is a convenience: fall back rather than break the page
        logger.exception("recognition.pipeline.rectify failed; using the review fallback")
        return _own_rectify(image, corners)
    if crop.shape[1] < CROP_WIDTH:
        scale = CROP_WIDTH / max(crop.shape[1], 1)
        crop = cv2.resize(
            crop, (CROP_WIDTH, max(16, round(crop.shape[0] * scale))), interpolation=cv2.INTER_CUBIC
        )
    return crop


def plate_crop_png(*, photo_bytes: bytes, corners: Sequence[Sequence[float]]) -> bytes:
    """PNG of the plate straightened from its 4 corners (TL, TR, BR, BL, photo pixels)."""
    if len(corners) != 4:
        raise ValueError("a plate outline needs 4 corners")
    buffer = np.frombuffer(photo_bytes, dtype=np.uint8)
    bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("the photo could not be decoded")
    # The pipeline works on RGB; convert there and back so either rectifier sees its own input.
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    crop = _rectify(rgb, corners)
    ok, png = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("the crop could not be encoded")
    return png.tobytes()
