"""The engine's loader (`load_photo`, `rgb_array`) on files as they come, before any upload
validation: the offline CLI reads them so, and gate frames are stored as sent."""

from __future__ import annotations

import pytest

from recognition.pipeline.images import ImageRejected, load_photo
from tests.fixtures import images
from tests.fixtures.photo_modes import CASES, assert_seen


@pytest.mark.parametrize(("data", "size", "seen"), CASES)
def test_every_mode_is_read_as_a_viewer_shows_it(data: bytes, size, seen):
    assert_seen(load_photo(data), size, seen)


def test_a_cmyk_photo_with_a_broken_profile_is_read_without_it():
    # given a profile cut short: lcms refuses it
    data = images.cmyk_jpeg(
        (200, 30, 30), icc_profile=images.cmyk_icc_profile(lambda *_: (0, 0, 0))[:200]
    )
    # then Pillow's own conversion is all there is, and it still reads
    assert_seen(load_photo(data), (80, 60), {(40, 30): (200, 30, 30)})


def test_what_is_not_a_photo_is_refused_with_a_reason():
    with pytest.raises(ImageRejected, match="not an image"):
        load_photo(b"%PDF-1.7")
