"""Photos that are not 8-bit RGB (CMYK, YCCK, 16-bit, palette or alpha, EXIF-rotated), from the
API upload through the worker's loading of the stored file to the engine: each one reaches the
engine as a viewer shows it and is read; none fails or is lost."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from recognition.models import Reading
from recognition.services import photo_image_load
from tests.fixtures.photo_modes import (
    CASES,
    CMYK_PROFILED_ROTATED,
    SWAPPED_PROFILE,
    assert_seen,
)
from tests.webapp.test_api import create_listing
from webapp.listings.models import Photo
from webapp.listings.validation import photo_validate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("data", "size", "seen"), CASES)
def test_a_photo_in_any_mode_reaches_the_engine_as_a_viewer_shows_it(
    client_for, partner, django_capture_on_commit_callbacks, data, size, seen
):
    # when a partner uploads it, and the chain runs
    with django_capture_on_commit_callbacks(execute=True):
        response = create_listing(client_for(partner), data)
    # then it is stored with its upright size
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert (photo.width, photo.height) == size
    # the worker hands the engine RGB pixels as a viewer shows the photo
    assert_seen(photo_image_load(photo_id=photo.pk), size, seen)
    # and the photo was read, not failed
    photo.refresh_from_db()
    assert (photo.status, photo.last_error) == (Photo.Status.DONE, "")
    assert Reading.objects.filter(photo=photo).exists()


def test_a_re_encoded_cmyk_photo_keeps_the_profile_its_colours_need():
    # given a CMYK photo with its press profile and an EXIF rotation (so it is re-encoded)
    # when
    stored = Image.open(io.BytesIO(photo_validate(io.BytesIO(CMYK_PROFILED_ROTATED)).content))
    # then a browser still finds a profile for the file's own colour space: never a CMYK
    # profile on RGB pixels
    assert stored.mode == "CMYK"
    assert stored.info["icc_profile"] == SWAPPED_PROFILE
    assert stored.getexif().get(0x0112, 1) == 1
