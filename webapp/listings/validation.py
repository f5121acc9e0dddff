"""Upload validation: what a photo really is, how big it is, and which way up.

Every check runs on the bytes, never on the client's file name or content type. Dimensions are
read from the header and refused before any pixel is decoded, so a small file that expands to
gigabytes (a decompression bomb) costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from typing import IO

import numpy as np
from django.conf import settings
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

# Format name (as Pillow reports it) -> (file extension, magic-byte test).
_SIGNATURES: dict[str, tuple[str, object]] = {
    "JPEG": ("jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "PNG": ("png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "WEBP": ("webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
}
# EXIF tag 0x0112: how the camera was held; values other than 1 need a rotation or flip.
_EXIF_ORIENTATION = 0x0112
# Re-encoding an upright JPEG at this quality keeps plate characters sharp for OCR.
_JPEG_QUALITY = 95
# Image.info keys that carry metadata about the photo rather than its pixels.
_METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "Description", "Author")
# 16-bit greyscale (PNG): Pillow's convert("RGB"), as recognition loads photos, clips it to white.
_WIDE_GREY_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
# Modes a JPEG is written back in as they are. CMYK stays CMYK, with its colour profile, which
# browsers and the engine's loader (recognition.pipeline.images.rgb_array) apply: converted
# here, the file would carry a CMYK profile on RGB pixels.
_JPEG_MODES = frozenset({"RGB", "L", "CMYK"})
# Image.info keys that describe pixels, not the photo: written back when re-encoding.
_PIXEL_KEYS = ("transparency",)


class PhotoRejected(ValueError):
    """The upload is not a photo we accept; `code` is stable, `reason` is for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class ValidatedPhoto:
    content: bytes  # what we store: the upload itself, or its upright (8-bit) re-encoding
    sha256: str  # of the uploaded bytes, so the same upload is recognised again
    format: str
    extension: str
    width: int
    height: int
    rotated: bool


def read_limited(upload: IO[bytes], *, max_bytes: int) -> bytes:
    """Read at most max_bytes + 1 so an oversized stream is refused without buffering it all."""
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PhotoRejected("too_large", f"file is larger than {max_bytes} bytes")
    return data


def sniff_format(head: bytes) -> str:
    for name, (_ext, matches) in _SIGNATURES.items():
        if matches(head):  # type: ignore[operator]
            return name
    raise PhotoRejected("unsupported_type", "not a JPEG, PNG or WebP image")


def photo_validate(
    upload: IO[bytes],
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
) -> ValidatedPhoto:
    max_bytes = settings.PHOTO_MAX_BYTES if max_bytes is None else max_bytes
    max_pixels = settings.PHOTO_MAX_PIXELS if max_pixels is None else max_pixels
    data = read_limited(upload, max_bytes=max_bytes)
    if not data:
        raise PhotoRejected("empty", "file is empty")
    fmt = sniff_format(data[:16])
    _header_size(data, fmt=fmt, max_pixels=max_pixels)
    _verify_structure(data)
    image = _decode(data)
    content, width, height, rotated = _upright(image, data, fmt=fmt)
    return ValidatedPhoto(
        content=content,
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        extension=str(_SIGNATURES[fmt][0]),
        width=width,
        height=height,
        rotated=rotated,
    )


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own global limit; our limit is checked right after.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise PhotoRejected("too_many_pixels", f"image has too many pixels: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise PhotoRejected("corrupt", "image header cannot be read") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # a header cut short or malformed
        raise PhotoRejected("corrupt", f"image header cannot be read: {exc}") from exc


def _header_size(data: bytes, *, fmt: str, max_pixels: int) -> tuple[int, int]:
    image = _open(data)
    if image.format != fmt:
        raise PhotoRejected("unsupported_type", f"content looks like {fmt} but decodes otherwise")
    if getattr(image, "is_animated", False):
        # The engine reads the first frame while a browser plays them all.
        raise PhotoRejected("unsupported_type", "animated images are not accepted")
    width, height = image.size
    if width <= 0 or height <= 0:
        raise PhotoRejected("corrupt", "image has no pixels")
    if width * height > max_pixels:
        raise PhotoRejected(
            "too_many_pixels",
            f"image is {width}x{height} = {width * height} pixels, the limit is {max_pixels}",
        )
    return width, height


def _verify_structure(data: bytes) -> None:
    try:
        _open(data).verify()
    except PhotoRejected:
        raise
    except Exception as exc:  # Pillow raises many types for broken files
        code = "truncated" if "truncat" in str(exc).lower() else "corrupt"
        raise PhotoRejected(code, f"image is corrupt: {exc}") from exc


def _decode(data: bytes) -> Image.Image:
    image = _open(data)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        logger.warning("ImageFile.LOAD_TRUNCATED_IMAGES is on; truncated photos may pass")
    try:
        image.load()
    except OSError as exc:
        code = "truncated" if "truncated" in str(exc) else "corrupt"
        raise PhotoRejected(code, f"image cannot be decoded: {exc}") from exc
    except (SyntaxError, ValueError) as exc:
        raise PhotoRejected("corrupt", f"image cannot be decoded: {exc}") from exc
    return image


def _has_metadata(image: Image.Image) -> bool:
    """EXIF (GPS, camera serial, time), XMP or comments: none of it is needed to read a plate."""
    return bool(image.getexif()) or any(key in image.info for key in _METADATA_KEYS)


def _eight_bit_grey(image: Image.Image) -> Image.Image:
    """16-bit greyscale scaled to 8 bits, the depth every reader of the stored photo expects."""
    pixels = np.asarray(image).astype(np.uint32) >> 8
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8), mode="L")


def _upright(image: Image.Image, data: bytes, *, fmt: str) -> tuple[bytes, int, int, bool]:
    """The bytes to store: upright, and without metadata (re-encoded only when needed)."""
    orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    rotate = orientation not in (None, 1)
    wide = image.mode in _WIDE_GREY_MODES
    if not rotate and not wide and not _has_metadata(image):
        return data, image.width, image.height, False
    clean = ImageOps.exif_transpose(image) if rotate else image.copy()
    if wide:
        clean = _eight_bit_grey(clean)
    # nothing of the upload's metadata is written back, only which colour is transparent
    clean.info = {key: image.info[key] for key in _PIXEL_KEYS if key in image.info and not wide}
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if "icc_profile" in image.info:  # colour, not metadata: keep it
        options["icc_profile"] = image.info["icc_profile"]
    if fmt == "JPEG":
        options.update(quality=_JPEG_QUALITY, subsampling=0)
        clean = clean.convert("RGB") if clean.mode not in _JPEG_MODES else clean
    clean.save(buffer, format=fmt, **options)
    return buffer.getvalue(), clean.width, clean.height, rotate
