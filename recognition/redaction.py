"""A photo's copy fit to publish: every place the last recognition found a plate may be
(`Photo.plate_areas`, read or not) hidden by `recognition.pipeline.redact`, in the photo's own
format, with no metadata (the stored photo has none either: `webapp/listings/validation.py` strips
it).

A photo not read yet has no copy: nobody can tell where its plates are, and a copy that hides
nothing must never be taken for one that hid them.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from recognition.pipeline import redact
from recognition.pipeline.images import rgb_array
from recognition.pipeline.types import Point
from webapp.listings.models import Photo

# Output per stored format: (content type, file suffix, Pillow's save options).
_FORMATS = {
    "JPEG": ("image/jpeg", "jpg", {"quality": 90}),
    "PNG": ("image/png", "png", {"optimize": False}),
    "WEBP": ("image/webp", "webp", {"quality": 90}),
}


class NotRedactable(Exception):
    """The photo has no copy to publish yet (`code`: not_read_yet) or will not have one until it
    is read again (recognition_failed; read_again: read before its areas were kept)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Redacted:
    data: bytes
    content_type: str
    filename: str
    etag: str


def redacted_etag(photo: Photo, style: str) -> str:
    """What the copy depends on (the photo, where its plates are, the style, how it hides
    them), without making it: a client's copy is current when its ETag matches."""
    parts = [
        photo.sha256,
        style,
        json.dumps(photo.plate_areas, sort_keys=True),
        f"{redact.HIDE_MARGIN}:{redact.BLOCK_SHARE}:{redact.MIN_BLOCK_PX}:{redact.MIN_PAD_PX}",
    ]
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'


def photo_redactable(photo: Photo) -> None:
    """Raises NotRedactable unless the photo has been read, and its areas kept."""
    if photo.status == Photo.Status.DONE and photo.plate_areas is not None:
        return
    if photo.status == Photo.Status.DONE:
        raise NotRedactable(
            "read_again",
            "the photo was read before the places to hide were kept; it has no copy to publish "
            "until it is read again (the admin's Recognise again, or the nightly backlog)",
        )
    if photo.status == Photo.Status.FAILED:
        raise NotRedactable(
            "recognition_failed",
            "recognition failed on this photo, so where its plates are is not known; "
            "it has no copy to publish until it is read again",
        )
    raise NotRedactable(
        "not_read_yet", f"the photo is {photo.status}: its copy exists once it has been read"
    )


def photo_redacted(photo: Photo, *, style: str = "blur") -> Redacted:
    """The copy with its plates hidden. Raises NotRedactable for a photo not read (yet) and
    ValueError for an unknown style."""
    if style not in redact.STYLES:
        raise ValueError(f"style must be one of {', '.join(redact.STYLES)}")
    photo_redactable(photo)
    with photo.image.open("rb") as handle, Image.open(handle) as image:
        quads = [area["corners"] for area in photo.plate_areas]
        copy = hidden_copy(rgb_array(image), quads, style=style, fmt=image.format)
    return Redacted(
        data=copy.data,
        content_type=copy.content_type,
        filename=f"photo-{photo.pk}-plates-hidden.{copy.suffix}",
        etag=redacted_etag(photo, style),
    )


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    suffix: str


def hidden_copy(
    pixels: np.ndarray, quads: Sequence[Sequence[Point]], *, style: str, fmt: str | None
) -> Encoded:
    """The RGB `pixels` with `quads` hidden, encoded as `fmt` (Pillow's name of the photo's
    format: JPEG, PNG or WEBP; JPEG for another), with no metadata."""
    fmt = fmt if fmt in _FORMATS else "JPEG"
    content_type, suffix, options = _FORMATS[fmt]
    buffer = io.BytesIO()
    Image.fromarray(redact.hide_plates(pixels, quads, style=style)).save(
        buffer, format=fmt, **options
    )
    return Encoded(buffer.getvalue(), content_type, suffix)


__all__ = [
    "Encoded",
    "NotRedactable",
    "Redacted",
    "hidden_copy",
    "photo_redactable",
    "photo_redacted",
    "redacted_etag",
]
