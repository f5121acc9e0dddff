"""The copy fit to publish (`GET /api/v1/photos/{id}/redacted/`): the plates where recognition
found them hidden, the rest of the photo as it was; nothing before the photo has been read."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition import tasks
from recognition.pipeline.redact import hidden_mask
from tests.fixtures.factories import ListingFactory, PhotoFactory
from webapp.listings.models import Photo
from webapp.partners.models import ALL_SCOPES

pytestmark = pytest.mark.django_db


def textured_png(width: int = 240, height: int = 160) -> tuple[bytes, np.ndarray]:
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue(), pixels


def read_photo(token_client, partner, engine_control) -> tuple[Photo, np.ndarray]:  # type: ignore[no-untyped-def]
    """A PNG uploaded through the API and read by the recognition task (the engine double
    reports one plate, 0.25-0.75 of the width, 0.6-0.75 of the height)."""
    data, pixels = textured_png()
    upload = SimpleUploadedFile("car.png", data, content_type="image/png")
    response = token_client(partner).post(
        "/api/v1/listings/", {"marketplace_id": "RED-1", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 201
    photo = Photo.objects.get(listing__marketplace_id="RED-1")
    tasks.recognize_photo.delay(photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.DONE
    return photo, pixels


def test_the_read_plate_is_hidden_and_nothing_else_changes(token_client, partner, engine_control):
    photo, pixels = read_photo(token_client, partner, engine_control)
    (area,) = photo.plate_areas
    assert area["read"] is True
    assert area["corners"] == [[60.0, 96.0], [180.0, 96.0], [180.0, 120.0], [60.0, 120.0]]

    response = token_client(partner).get(f"/api/v1/photos/{photo.pk}/redacted/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "plates-hidden.png" in response["Content-Disposition"]
    copy = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert copy.shape == pixels.shape
    mask = hidden_mask(pixels.shape, [area["corners"]])
    np.testing.assert_array_equal(copy[~mask], pixels[~mask])  # lossless outside the plate
    plate = (slice(98, 118), slice(62, 178))
    assert np.abs(np.diff(pixels[plate].astype(int), axis=1)).mean() > 60  # noise before
    assert np.abs(np.diff(copy[plate].astype(int), axis=1)).mean() < 10  # no detail after


def test_fill_style_and_the_etag(token_client, partner, engine_control):
    photo, pixels = read_photo(token_client, partner, engine_control)
    client = token_client(partner)
    url = f"/api/v1/photos/{photo.pk}/redacted/"
    filled = client.get(url, {"style": "fill"})
    copy = np.asarray(Image.open(io.BytesIO(filled.content)).convert("RGB"))
    mask = hidden_mask(pixels.shape, [photo.plate_areas[0]["corners"]])
    assert len(np.unique(copy[mask].reshape(-1, 3), axis=0)) == 1
    blurred = client.get(url)
    assert blurred["ETag"] != filled["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=blurred["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    # Read again (a new engine version finds the plate elsewhere): the old copy is stale.
    photo.plate_areas = [{"corners": [[0, 0], [40, 0], [40, 10], [0, 10]], "score": 0.9}]
    photo.save(update_fields=["plate_areas"])
    assert client.get(url, HTTP_IF_NONE_MATCH=blurred["ETag"]).status_code == 200


def test_a_photo_not_read_has_no_copy_to_publish(token_client, partner):
    client = token_client(partner)
    pending = PhotoFactory(listing=ListingFactory(owner=partner))
    response = client.get(f"/api/v1/photos/{pending.pk}/redacted/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "not_read_yet"
    assert response["Retry-After"] == "30"
    failed = PhotoFactory(
        listing=ListingFactory(owner=partner), status=Photo.Status.FAILED, last_error="x"
    )
    response = client.get(f"/api/v1/photos/{failed.pk}/redacted/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "recognition_failed"
    assert "Retry-After" not in response


def test_a_photo_read_before_its_areas_were_kept_waits_to_be_read_again(token_client, partner):
    """A copy that hides nothing must not pass for one that hid the plates: a photo read before
    the migration (areas null) has none until it is read again."""
    old = PhotoFactory(
        listing=ListingFactory(owner=partner), status=Photo.Status.DONE, plate_areas=None
    )
    client = token_client(partner)
    response = client.get(f"/api/v1/photos/{old.pk}/redacted/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "read_again"
    (shown,) = client.get(f"/api/v1/listings/{old.listing_id}/").json()["photos"]
    assert shown["redacted"] == ""
    assert shown["plate_areas"] is None
    # read, with no plate anywhere: the copy is the photo itself, and says so by existing
    old.plate_areas = []
    old.save(update_fields=["plate_areas"])
    assert client.get(f"/api/v1/photos/{old.pk}/redacted/").status_code == 200


def test_other_partners_unknown_styles_and_scopes_are_refused(
    token_client, partner, other_partner, engine_control
):
    photo, _ = read_photo(token_client, partner, engine_control)
    url = f"/api/v1/photos/{photo.pk}/redacted/"
    assert token_client(other_partner).get(url).status_code == 404
    bad = token_client(partner).get(url, {"style": "swirl"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "style"
    no_read = token_client(partner, scopes=[s for s in ALL_SCOPES if s != "read"])
    assert no_read.get(url).status_code == 403
    assert token_client(partner).get("/api/v1/photos/999999/redacted/").status_code == 404


def test_the_photo_in_the_api_links_its_copy_and_lists_its_areas(
    token_client, partner, engine_control
):
    photo, _ = read_photo(token_client, partner, engine_control)
    body = token_client(partner).get(f"/api/v1/listings/{photo.listing_id}/").json()
    (shown,) = body["photos"]
    assert shown["redacted"].endswith(f"/api/v1/photos/{photo.pk}/redacted/")
    assert shown["plate_areas"] == [
        {"corners": [[60.0, 96.0], [180.0, 96.0], [180.0, 120.0], [60.0, 120.0]], "score": 0.95,
         "read": True}
    ]  # fmt: skip
    pending = PhotoFactory(listing=ListingFactory(owner=partner))
    listing = token_client(partner).get(f"/api/v1/listings/{pending.listing_id}/").json()
    assert listing["photos"][0]["redacted"] == ""


def test_a_photo_whose_file_is_gone_answers_404_not_500(token_client, partner, engine_control):
    photo, _ = read_photo(token_client, partner, engine_control)
    photo.image.storage.delete(photo.image.name)
    response = token_client(partner).get(f"/api/v1/photos/{photo.pk}/redacted/")
    assert response.status_code == 404
