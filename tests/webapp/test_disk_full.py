"""A full media disk while photos are stored: the partner (or the admin) is told, in the API's
error shape with a Retry-After, nothing of the request is kept, what was kept before stays, the
failure is logged once and counted, and the same request succeeds once space is freed.

The disk is full at the filesystem's edge only (tests/fixtures/disk.py): every write of a file
under MEDIA_ROOT takes what fits and then fails with ENOSPC."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.fixtures import images
from tests.fixtures.disk import errors_logged, media_files, write_failures
from tests.fixtures.factories import ListingFactory
from tests.webapp.test_api import create_listing, upload
from webapp.listings.models import Listing, Photo
from webapp.storage import RETRY_AFTER_S

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_client(client_for, partner):
    client = client_for(partner)
    client.raise_request_exception = False  # a 5xx would be raised here: see the answer
    return client


def assert_storage_unavailable(response, settings) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {
                "code": "storage_unavailable",
                "detail": "the photos could not be stored now; nothing was kept",
                "attr": None,
            }
        ],
    }


def assert_whole(photo: Photo) -> None:
    with photo.image.open("rb") as handle, Image.open(handle) as image:
        image.load()
        assert image.size == (photo.width, photo.height)


def test_a_listing_posted_onto_a_full_disk_keeps_nothing_and_goes_through_once_freed(
    partner_client, client, settings, full_media_disk, caplog
):
    # given a full disk that still takes 400 bytes of a file: the first photo (a 155-byte PNG)
    # is written whole, the second (a 710-byte JPEG) only in part
    full_media_disk.room = 400
    counted = write_failures(client, settings, "photos")
    caplog.clear()
    # when
    response = create_listing(partner_client, images.png(), images.jpeg())
    # then the partner is told to come back, in the API's error shape
    assert_storage_unavailable(response, settings)
    assert full_media_disk.refused == 1
    # and neither the listing, nor its photos, nor the first photo's whole file, nor the
    # second's partial one is left
    assert not Listing.objects.exists()
    assert not Photo.objects.exists()
    assert media_files(settings) == []
    # logged once, with the OS's reason; counted for Prometheus
    logged = errors_logged(caplog)
    assert len(logged) == 1, logged
    assert "No space left on device" in logged[0]
    assert write_failures(client, settings, "photos") == counted + 1
    # when the operator frees space and the partner sends the same request again
    full_media_disk.free()
    again = create_listing(partner_client, images.png(), images.jpeg())
    # then it is stored, whole
    assert again.status_code == 201, again.content
    photos = list(Photo.objects.all())
    assert len(photos) == 2
    for photo in photos:
        assert_whole(photo)
    assert len(media_files(settings)) == 2


def test_photos_added_onto_a_full_disk_leave_the_photos_stored_before(
    partner_client, partner, settings, full_media_disk, caplog
):
    # given a listing with a photo stored while there was room
    full_media_disk.free()
    listing = ListingFactory(owner=partner)
    url = f"/api/v1/listings/{listing.pk}/photos/"
    first = partner_client.post(url, {"photos": [upload(images.webp())]}, format="multipart")
    assert first.status_code == 201, first.content
    kept = Photo.objects.get()
    kept_files = media_files(settings)
    # when the disk is full and two more photos come
    full_media_disk.full = True
    full_media_disk.room = 100
    caplog.clear()
    response = partner_client.post(
        url, {"photos": [upload(images.jpeg()), upload(images.png(), "p.png")]}, format="multipart"
    )
    # then
    assert_storage_unavailable(response, settings)
    assert list(Photo.objects.all()) == [kept]
    assert media_files(settings) == kept_files
    assert_whole(kept)
    assert len(errors_logged(caplog)) == 1
    # and once space is freed the same request goes through
    full_media_disk.free()
    again = partner_client.post(
        url, {"photos": [upload(images.jpeg()), upload(images.png(), "p.png")]}, format="multipart"
    )
    assert again.status_code == 201, again.content
    assert Photo.objects.filter(listing=listing).count() == 3
    assert len(media_files(settings)) == 3


def test_the_admin_says_the_photo_could_not_be_stored_and_keeps_nothing(
    client, admin_user, settings, full_media_disk, caplog
):
    # given staff adding a photo in the admin while the disk is full
    full_media_disk.room = 100
    listing = ListingFactory()
    client.force_login(admin_user)
    client.raise_request_exception = False
    caplog.clear()

    def add():
        photo = SimpleUploadedFile("car.jpg", images.jpeg(), content_type="image/jpeg")
        return client.post("/admin/listings/photo/add/", {"listing": listing.pk, "upload": photo})

    # when
    response = add()
    # then the form says why, and neither row nor file is left
    assert response.status_code == 200, response.content[:2000]
    assert b"the photos could not be stored now; nothing was kept" in response.content
    assert not Photo.objects.exists()
    assert media_files(settings) == []
    assert len(errors_logged(caplog)) == 1
    # and the same upload goes through once space is freed
    full_media_disk.free()
    assert add().status_code == 302
    assert_whole(Photo.objects.get())


def test_the_schema_documents_the_503_with_its_retry_after(client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    for path in ("/api/v1/listings/", "/api/v1/listings/{id}/photos/"):
        answer = paths[path]["post"]["responses"]["503"]
        assert "storage_unavailable" in answer["description"]
        assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}
        schema = answer["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
