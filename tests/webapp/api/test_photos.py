"""Photos: private, served to the listing's owner (X-Accel-Redirect in production), stored
without EXIF/GPS, at most LISTING_MAX_PHOTOS per listing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.fixtures import images
from tests.fixtures.factories import ListingFactory, PhotoFactory
from webapp.listings.models import Photo

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (50.0, 27.0, 1.5), 3: "E", 4: (30.0, 31.0, 2.5)}
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 200, 30)).save(buffer, "JPEG", exif=exif.tobytes())
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture has GPS
    return data


def test_the_stored_file_carries_no_gps_or_other_exif(token_client, partner):
    upload = SimpleUploadedFile("gps.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = token_client(partner).post(
        "/api/v1/listings/", {"marketplace_id": "GPS-1", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 201
    photo = Photo.objects.get(listing__marketplace_id="GPS-1")
    with photo.image.open("rb") as handle:
        data = handle.read()
    stored = Image.open(io.BytesIO(data))
    assert not stored.getexif()
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert b"PhoneMaker" not in data
    assert stored.size == (80, 60)


def test_media_urls_are_refused_to_anonymous_and_other_users(client, partner, other_partner):
    photo = PhotoFactory(listing=ListingFactory(owner=partner))
    url = photo.image.url
    assert url.startswith("/media/")
    assert client.get(url).status_code == 404
    client.force_login(other_partner)
    assert client.get(url).status_code == 404
    client.force_login(partner)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"


def test_production_hands_the_file_to_nginx(token_client, partner, settings):
    settings.PHOTO_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    photo = PhotoFactory(listing=ListingFactory(owner=partner))
    response = token_client(partner).get(f"/api/v1/photos/{photo.pk}/file/")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.image.name}"
    assert response.content == b""
    assert response["Content-Type"] == "image/jpeg"


def test_a_listing_holds_at_most_the_configured_number_of_photos(token_client, partner, settings):
    settings.LISTING_MAX_PHOTOS = 2
    listing = ListingFactory(owner=partner)
    PhotoFactory(listing=listing)
    client = token_client(partner)
    files = [
        SimpleUploadedFile(f"p{i}.jpg", images.jpeg(colour=(i, 9, 9)), content_type="image/jpeg")
        for i in range(2)
    ]
    response = client.post(
        f"/api/v1/listings/{listing.pk}/photos/", {"photos": files}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_many_photos"
    assert listing.photos.count() == 1
