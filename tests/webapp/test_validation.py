from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.fixtures import images
from webapp.listings.validation import PhotoRejected, photo_validate


def reject_code(data: bytes, **limits: int) -> str:
    with pytest.raises(PhotoRejected) as caught:
        photo_validate(io.BytesIO(data), **limits)
    return caught.value.code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"", "empty", id="zero-byte"),
        pytest.param(b"%PDF-1.7 not an image at all", "unsupported_type", id="pdf"),
        pytest.param(b"GIF89a" + b"\x00" * 64, "unsupported_type", id="gif"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 20, "corrupt", id="corrupt-jpeg"),
        pytest.param(images.png()[:60], "truncated", id="truncated-png"),
    ],
)
def test_it_rejects_what_is_not_a_whole_photo(data: bytes, code: str):
    assert reject_code(data) == code


def test_it_rejects_a_truncated_jpeg_with_a_reason():
    data = images.encode(Image.effect_noise((200, 200), 60).convert("RGB"), "JPEG")
    with pytest.raises(PhotoRejected) as caught:
        photo_validate(io.BytesIO(data[: len(data) // 2]))
    assert caught.value.code == "truncated"
    assert "truncated" in caught.value.reason


def test_it_refuses_a_100_megapixel_png_bomb_before_decoding_it():
    bomb = images.png_bomb()
    assert len(bomb) < 200_000  # small on the wire
    with pytest.raises(PhotoRejected) as caught:
        photo_validate(io.BytesIO(bomb), max_pixels=50_000_000)
    assert caught.value.code == "too_many_pixels"
    assert "10000x10000" in caught.value.reason


def test_it_refuses_too_many_bytes():
    assert reject_code(images.jpeg(), max_bytes=100) == "too_large"


def test_it_applies_exif_orientation_and_stores_the_upright_image():
    photo = photo_validate(io.BytesIO(images.exif_rotated_jpeg(120, 40)))
    assert photo.rotated
    assert (photo.width, photo.height) == (40, 120)
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.size == (40, 120)
    assert stored.getexif().get(0x0112, 1) == 1
    # orientation 6 turns the top-left corner into the top-right corner
    assert stored.convert("L").getpixel((35, 5)) < 60
    assert stored.convert("L").getpixel((5, 5)) > 200


@pytest.mark.parametrize(
    ("data", "fmt", "extension"),
    [
        pytest.param(images.jpeg(), "JPEG", "jpg", id="jpeg"),
        pytest.param(images.png(), "PNG", "png", id="png"),
        pytest.param(images.webp(), "WEBP", "webp", id="webp"),
    ],
)
def test_it_accepts_jpeg_png_and_webp_unchanged(data: bytes, fmt: str, extension: str):
    photo = photo_validate(io.BytesIO(data))
    assert (photo.format, photo.extension, photo.width, photo.height) == (fmt, extension, 80, 60)
    assert photo.content == data
    assert not photo.rotated
