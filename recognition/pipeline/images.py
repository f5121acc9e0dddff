"""Decoding photos for the engine: real content only, bounded size, upright, RGB."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# A 100-megapixel photo is far beyond any listing camera; larger ones are decompression bombs.
MAX_PIXELS = 60_000_000
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


class ImageRejected(ValueError):
    """The bytes are not a photo the engine can read; the message says why."""


def load_photo(data: bytes, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode JPEG, PNG or WebP bytes to an upright RGB uint8 array."""
    if not data:
        raise ImageRejected("empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
    except UnidentifiedImageError as exc:
        raise ImageRejected("not an image: expected JPEG, PNG or WebP") from exc
    if fmt not in ACCEPTED_FORMATS:
        raise ImageRejected(f"unsupported image format {fmt}: expected JPEG, PNG or WebP")
    if width * height > max_pixels:
        raise ImageRejected(f"image is {width}x{height} pixels, more than the {max_pixels} allowed")
    if width == 0 or height == 0:
        raise ImageRejected("image has no pixels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                upright = ImageOps.exif_transpose(img)
                return np.asarray(upright.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"corrupt or truncated {fmt} image: {exc}") from exc
