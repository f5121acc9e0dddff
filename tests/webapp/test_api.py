from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from recognition.models import Reading
from tests.fixtures import images
from tests.fixtures.factories import FlagFactory, ListingFactory, ReadingFactory
from webapp.listings.models import Listing, Photo
from webapp.listings.services import ListingExists, listing_create
from webapp.partners.models import PartnerToken

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "car.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def create_listing(client: APIClient, *files: bytes, marketplace_id: str = "MP-1"):
    payload = {
        "marketplace_id": marketplace_id,
        "declared_make": "Lada",
        "declared_year": "2015",
        "photos": [upload(data, f"p{i}.jpg") for i, data in enumerate(files)],
    }
    return client.post("/api/v1/listings/", payload, format="multipart")


def test_a_partner_creates_a_listing_with_photos_and_they_are_recognised(
    client_for, partner, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = create_listing(client_for(partner), images.jpeg(), images.webp())
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == "partner"
    assert [p["width"] for p in body["photos"]] == [80, 80]
    assert len(callbacks) == 2
    photos = Photo.objects.filter(listing__marketplace_id="MP-1")
    assert set(photos.values_list("status", flat=True)) == {Photo.Status.DONE}
    assert Reading.objects.filter(photo__in=photos, plate_text="A123BC77").count() == 2


def test_it_answers_4xx_with_a_reason_and_stores_nothing_for_a_bad_photo(client_for, partner):
    response = create_listing(client_for(partner), images.jpeg(), images.png()[:60])
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "truncated"
    assert "p1.jpg" in error["detail"]
    assert not Listing.objects.exists()


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"", 400), (b"plain text, not a photo", 415), (images.png_bomb(), 400)],
    ids=["zero-byte", "text", "png-bomb"],
)
def test_it_rejects_bad_uploads_with_clear_statuses(client_for, partner, data, status):
    response = create_listing(client_for(partner), data)
    assert response.status_code == status
    assert response.json()["errors"][0]["detail"]


def test_the_same_photo_twice_is_stored_once(client_for, partner):
    client = client_for(partner)
    listing_id = create_listing(client, images.jpeg()).json()["id"]
    url = f"/api/v1/listings/{listing_id}/photos/"
    response = client.post(url, {"photos": [upload(images.jpeg())]}, format="multipart")
    assert response.status_code == 200
    assert response.json()[0]["duplicate"] is True
    assert Photo.objects.filter(listing_id=listing_id).count() == 1
    response = client.post(url, {"photos": [upload(images.png(), "b.png")]}, format="multipart")
    assert response.status_code == 201
    assert Photo.objects.filter(listing_id=listing_id).count() == 2


def test_an_anonymous_user_can_neither_upload_nor_list(api_client):
    assert create_listing(api_client, images.jpeg()).status_code == 401
    assert api_client.get("/api/v1/listings/").status_code == 401


def test_a_user_without_the_partner_role_cannot_upload(client_for, outsider):
    response = create_listing(client_for(outsider), images.jpeg())
    assert response.status_code == 403
    assert not Listing.objects.exists()


def test_a_partner_sees_only_its_own_listings(client_for, partner, outsider):
    mine = ListingFactory(owner=partner)
    theirs = ListingFactory(owner=outsider)
    client = client_for(partner)
    listed = client.get("/api/v1/listings/").json()["results"]
    assert [item["id"] for item in listed] == [mine.pk]
    assert client.get(f"/api/v1/listings/{theirs.pk}/").status_code == 404
    photos = {"photos": [upload(images.jpeg())]}
    url = f"/api/v1/listings/{theirs.pk}/photos/"
    assert client.post(url, photos, format="multipart").status_code == 404
    assert client_for(outsider).get("/api/v1/listings/").json()["results"][0]["id"] == theirs.pk


def test_staff_see_every_listing_with_photos_readings_and_flags(client_for, moderator):
    reading = ReadingFactory()
    FlagFactory(listing=reading.photo.listing)
    ListingFactory()
    listed = client_for(moderator).get("/api/v1/listings/").json()
    assert len(listed["results"]) == 2
    detail = client_for(moderator).get(f"/api/v1/listings/{reading.photo.listing_id}/").json()
    assert detail["photos"][0]["readings"][0]["plate_text"] == reading.plate_text
    assert detail["flags"][0]["kind"] == "plate_not_in_register"


def test_token_authentication_works(partner):
    client = APIClient()
    response = client.post(
        "/api/v1/token/", {"username": "partner", "password": "correct-horse-battery"}
    )
    assert response.status_code == 201
    key = response.json()["token"]
    assert PartnerToken.objects.get(user=partner).key_hash != key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/listings/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/listings/").status_code == 200


def test_a_marketplace_id_taken_by_another_partner_is_a_409_without_its_address(
    client_for, partner
):
    ListingFactory(marketplace_id="MP-1")
    response = create_listing(client_for(partner), images.jpeg())
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "duplicate"
    assert "Location" not in response
    assert Photo.objects.count() == 0


def test_a_create_retried_after_its_answer_was_lost_finds_the_listing_it_made(client_for, partner):
    # given a create that went through, though the partner never saw the answer
    first = create_listing(client_for(partner), images.jpeg())
    assert first.status_code == 201
    made = first.json()["id"]
    # when it is sent again
    retry = create_listing(client_for(partner), images.jpeg())
    # then it is told where the listing is, and nothing more was stored
    assert retry.status_code == 409
    assert retry.json()["errors"][0]["code"] == "duplicate"
    assert retry["Location"] == f"http://testserver/api/v1/listings/{made}/"
    assert client_for(partner).get(retry["Location"]).json()["id"] == made
    assert Listing.objects.count() == 1
    assert Photo.objects.count() == 1


def test_two_creates_racing_for_one_marketplace_id_store_one_listing(partner):
    # given the race's winner, committed after the loser's check found the id free
    winner, _ = listing_create(marketplace_id="MP-RACE", owner=partner)
    # when the loser's insert meets the unique marketplace_id
    with pytest.raises(ListingExists) as raised:
        listing_create(marketplace_id="MP-RACE", owner=partner, photos=[upload(images.jpeg())])
    # then it is told which listing won, and stored nothing
    assert raised.value.listing.pk == winner.pk
    assert Listing.objects.count() == 1
    assert not Photo.objects.exists()


def test_exif_rotated_upload_is_stored_upright(client_for, partner):
    response = create_listing(client_for(partner), images.exif_rotated_jpeg(120, 40))
    photo = response.json()["photos"][0]
    assert (photo["width"], photo["height"]) == (40, 120)
    stored = Photo.objects.get(pk=photo["id"])
    from PIL import Image

    with stored.image.open("rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).size == (40, 120)
