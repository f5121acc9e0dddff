"""Photos added to a listing or taken off it through the partner API (the seller changed the
listing's photos): a removed photo's readings go with it, the listing is checked against the
register again, and moderators see both among the seller's changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from recognition.models import CrosscheckRequest, Reading
from registry.services import register_import
from tests.fixtures import images
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory
from webapp.checks.models import Flag
from webapp.checks.services import listing_crosscheck
from webapp.listings.models import ListingEdit, Photo
from webapp.review.models import MODERATORS_GROUP

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "registry" / "samples"


@pytest.fixture
def honda_with_a_tesla_photo(partner):
    """A listing declared a Honda with two photos: one shows the register's Tesla (KA0101AM),
    which flags the listing for its make; the other shows no plate."""
    register_import(path=SAMPLES / "register_2024.csv", enqueue_crosscheck=False)
    listing = ListingFactory(
        owner=partner, marketplace_id="MP-PHOTO", declared_make="Honda", declared_model="",
        declared_colour="grey", declared_year=2020,
    )  # fmt: skip
    tesla = PhotoFactory(listing=listing, status=Photo.Status.DONE)
    ReadingFactory(photo=tesla, plate_text="KA0101AM", plate_format="ua_2015", confidence=0.95)
    PhotoFactory(listing=listing, status=Photo.Status.DONE)
    listing_crosscheck(listing_id=listing.pk)
    assert Flag.objects.filter(listing=listing, kind="make_mismatch", status="open").exists()
    return listing, tesla


def url(listing, photo) -> str:
    return f"/api/v1/listings/{listing.pk}/photos/{photo.pk}/"


def test_a_photo_taken_off_goes_with_its_readings_and_the_listing_is_checked_again(
    honda_with_a_tesla_photo, token_client, partner, django_capture_on_commit_callbacks
):
    listing, tesla = honda_with_a_tesla_photo
    # when the seller takes the other car's photo off
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(partner).delete(url(listing, tesla))
    # then it is gone with its readings, the other photo stays, and the flag it gave went
    assert response.status_code == 204
    assert not Photo.objects.filter(pk=tesla.pk).exists()
    assert not Reading.objects.filter(photo_id=tesla.pk).exists()
    assert Photo.objects.filter(listing=listing).count() == 1
    assert not Flag.objects.filter(listing=listing, kind="make_mismatch").exists()
    request = CrosscheckRequest.objects.get(listing=listing)
    assert request.checked_at is not None
    assert request.checked_at >= request.requested_at
    body = token_client(partner).get(f"/api/v1/listings/{listing.pk}/").json()
    assert [p["id"] for p in body["photos"]] != [tesla.pk]
    assert len(body["photos"]) == 1
    # and the removal is kept, naming the photo and the plate read on it
    edit = ListingEdit.objects.get(listing=listing)
    assert (edit.by, edit.changes) == (
        partner,
        {"photo_removed": [f"photo {tesla.pk} (KA0101AM)", None]},
    )
    # a second removal of it finds nothing
    assert token_client(partner).delete(url(listing, tesla)).status_code == 404


def test_moderators_see_the_removal_among_the_seller_s_changes(
    honda_with_a_tesla_photo, token_client, partner, moderator
):
    listing, tesla = honda_with_a_tesla_photo
    flag = Flag.objects.get(listing=listing, kind="make_mismatch")
    # the cross-check is asked for, but has not run yet (no on-commit callbacks here)
    assert token_client(partner).delete(url(listing, tesla)).status_code == 204
    page = flag_page(moderator, flag)
    assert "Photo removed" in page
    assert f"photo {tesla.pk} (KA0101AM)" in page


def test_only_the_listing_s_owner_with_a_write_token_takes_a_photo_off(
    honda_with_a_tesla_photo, token_client, partner, other_partner
):
    listing, tesla = honda_with_a_tesla_photo
    elsewhere = PhotoFactory(status=Photo.Status.DONE)  # another listing's photo
    assert token_client(other_partner).delete(url(listing, tesla)).status_code == 404
    assert token_client(partner, scopes=["read"]).delete(url(listing, tesla)).status_code == 403
    # a photo of another listing, named under this one, is not found here
    assert token_client(partner).delete(url(listing, elsewhere)).status_code == 404
    assert Photo.objects.filter(pk__in=[tesla.pk, elsewhere.pk]).count() == 2
    assert not ListingEdit.objects.exists()


def test_a_removal_from_a_listing_changed_since_it_was_read_is_refused(
    honda_with_a_tesla_photo, token_client, partner
):
    listing, tesla = honda_with_a_tesla_photo
    client = token_client(partner)
    etag = client.get(f"/api/v1/listings/{listing.pk}/")["ETag"]
    other = Photo.objects.filter(listing=listing).exclude(pk=tesla.pk).get()
    assert client.delete(url(listing, other), HTTP_IF_MATCH=etag).status_code == 204
    # the listing changed (a photo fewer): a removal sent with the old ETag is refused
    refused = client.delete(url(listing, tesla), HTTP_IF_MATCH=etag)
    assert refused.status_code == 412
    assert Photo.objects.filter(pk=tesla.pk).exists()


def flag_page(moderator, flag) -> str:
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    client = Client()
    client.force_login(moderator)
    return client.get(reverse("review:flag", args=[flag.pk])).content.decode()


def jpeg(name: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, images.jpeg(colour=colour), content_type="image/jpeg")


def test_photos_added_to_a_listing_are_kept_among_the_seller_s_changes(
    honda_with_a_tesla_photo, token_client, partner, moderator
):
    listing, _tesla = honda_with_a_tesla_photo
    flag = Flag.objects.get(listing=listing, kind="make_mismatch")
    client = token_client(partner)
    # when the seller adds two photos
    added = client.post(
        f"/api/v1/listings/{listing.pk}/photos/",
        {"photos": [jpeg("a.jpg", (200, 10, 10)), jpeg("b.jpg", (10, 200, 10))]},
        format="multipart",
    )
    assert added.status_code == 201
    ids = [photo["id"] for photo in added.json()]
    # then one edit names them, sent by the partner, and the flag page shows it
    edit = ListingEdit.objects.get(listing=listing)
    assert (edit.by, edit.changes) == (
        partner,
        {"photo_added": [None, f"photo {ids[0]}, photo {ids[1]}"]},
    )
    page = flag_page(moderator, flag)
    assert "Photos added" in page
    assert f"photo {ids[0]}, photo {ids[1]}" in page
    # and the same bytes again add nothing, and change nothing
    again = client.post(
        f"/api/v1/listings/{listing.pk}/photos/",
        {"photos": [jpeg("a.jpg", (200, 10, 10))]},
        format="multipart",
    )
    assert again.status_code == 200
    assert ListingEdit.objects.filter(listing=listing).count() == 1
