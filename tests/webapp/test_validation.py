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


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(images.jpeg(600, 400)[:300], id="jpeg-cut-inside-its-tables"),
        pytest.param(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20, id="webp-header-only"),
    ],
)
def test_a_photo_broken_inside_its_header_is_rejected_not_an_error(data: bytes):
    # Pillow raises a bare OSError for these while reading the header; callers (the admin form,
    # the API) only turn PhotoRejected into a clear message.
    assert reject_code(data) in ("corrupt", "truncated")


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_it_rejects_an_animated_image(fmt: str):
    # The engine reads the first frame while a browser plays them all: what the moderator sees
    # would not be what was checked.
    first, second = Image.new("RGB", (80, 60), (10, 10, 10)), Image.new("RGB", (80, 60), "white")
    data = images.encode(first, fmt, save_all=True, append_images=[second])
    with pytest.raises(PhotoRejected) as caught:
        photo_validate(io.BytesIO(data))
    assert caught.value.code == "unsupported_type"
    assert "animated" in caught.value.reason


def test_a_16_bit_grey_png_is_stored_as_the_engine_and_browsers_see_it():
    # given: a mid-grey 16-bit greyscale PNG (scanners and some cameras write these)
    data = images.encode(Image.new("I;16", (80, 60), 128 * 257), "PNG")

    # when
    photo = photo_validate(io.BytesIO(data))

    # then: loaded the way recognition loads photos, it is still mid-grey (not clipped to white)
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.convert("RGB").getpixel((40, 30)) == (128, 128, 128)
    assert (photo.format, photo.width, photo.height) == ("PNG", 80, 60)
