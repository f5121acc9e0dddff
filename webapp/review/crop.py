"""The straightened, enlarged plate crop shown next to each reading."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from recognition.pipeline.rectify import plate_crop

# Wide enough that a moderator can read every character at a glance on a laptop screen.
CROP_WIDTH = 520
MAX_PHOTO_BYTES = 40 * 1024 * 1024


def _rectify(image: np.ndarray, corners: Sequence[Sequence[float]]) -> np.ndarray:
    """The engine's own crop (one crop path), so moderators see what the OCR saw, enlarged."""
    crop = np.asarray(plate_crop(image, np.asarray(corners, dtype=np.float32).reshape(4, 2)))
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
    # The pipeline works on RGB: convert there and back.
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    crop = _rectify(rgb, corners)
    ok, png = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("the crop could not be encoded")
    return png.tobytes()
