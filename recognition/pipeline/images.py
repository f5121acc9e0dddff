"""Decoding photos for the engine: real content only, bounded size, upright, RGB.

`rgb_array` is the one way from a decoded image to the engine's pixels, for every mode Pillow
decodes from JPEG, PNG and WebP (stored photos, gate frames, the snapshot endpoint, files on
disk): the engine sees what a viewer shows.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# A 100-megapixel photo is far beyond any listing camera; larger ones are decompression bombs.
MAX_PIXELS = 60_000_000
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# 16-bit greyscale (PNG): Pillow's convert("RGB") clips it to white instead of scaling it.
_WIDE_GREY_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
# What transparent pixels show in a browser on a page: the engine reads them the same way, not
# the colours a transparent area happens to hold.
_BACKGROUND = (255, 255, 255, 255)


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
                return rgb_array(img)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"corrupt or truncated {fmt} image: {exc}") from exc


def rgb_array(image: Image.Image) -> np.ndarray:
    """A decoded image as the engine's RGB uint8 HxWx3, as a viewer shows it: EXIF orientation
    applied, CMYK (and YCCK) through its embedded colour profile, 16-bit grey scaled to 8 bits,
    transparent parts on white."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode == "CMYK":
        upright = _cmyk_to_rgb(upright)
    elif upright.mode in _WIDE_GREY_MODES:
        pixels = np.asarray(upright).astype(np.uint32) >> 8
        upright = Image.fromarray(pixels.clip(0, 255).astype(np.uint8), mode="L")
    elif upright.has_transparency_data:
        background = Image.new("RGBA", upright.size, _BACKGROUND)
        upright = Image.alpha_composite(background, upright.convert("RGBA"))
    return np.asarray(upright.convert("RGB"))


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """Print CMYK carries the profile that says which colours its inks make (browsers use it);
    Pillow's own conversion ignores it. Without a usable profile, Pillow's is all there is."""
    profile = image.info.get("icc_profile")
    if profile:
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile, or one for other colours than CMYK
        else:
            if converted is not None:
                return converted
    return image.convert("RGB")
