from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.fixtures import images
from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory, ReadingFactory
from webapp.listings.models import ListingEdit, Photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_admin_uploads_a_photo_through_the_same_validation(admin_client_, admin_user):
    listing = ListingFactory()
    good = SimpleUploadedFile("car.webp", images.webp())
    response = admin_client_.post(
        "/admin/listings/photo/add/", {"listing": listing.pk, "upload": good}
    )
    assert response.status_code == 302, response.content[:2000]
    assert Photo.objects.get(listing=listing).width == 80
    bad = SimpleUploadedFile("car.jpg", b"not an image")
    response = admin_client_.post(
        "/admin/listings/photo/add/", {"listing": listing.pk, "upload": bad}
    )
    assert response.status_code == 200
    assert b"not a JPEG, PNG or WebP image" in response.content
    assert Photo.objects.filter(listing=listing).count() == 1
    # the photo added is kept among the listing's edits, by the admin; the same bytes again
    # store nothing and keep no edit
    photo = Photo.objects.get(listing=listing)
    again = SimpleUploadedFile("car.webp", images.webp())
    admin_client_.post("/admin/listings/photo/add/", {"listing": listing.pk, "upload": again})
    assert [(e.changes, e.by) for e in ListingEdit.objects.filter(listing=listing)] == [
        ({"photo_added": [None, f"photo {photo.pk}"]}, admin_user)
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/listings/listing/?q=MP",
        "/admin/listings/photo/?status__exact=pending",
        "/admin/checks/flag/?status__exact=open&q=A123",
        "/admin/recognition/reading/?source__exact=engine&q=A123",
    ],
)
def test_admin_lists_filter_and_search(admin_client_, url):
    reading = ReadingFactory()
    FlagFactory(listing=reading.photo.listing)
    PhotoFactory(listing=reading.photo.listing)
    response = admin_client_.get(url)
    assert response.status_code == 200
    assert b"0 results" not in response.content


def test_listing_change_page_shows_its_photos(admin_client_):
    photo = PhotoFactory()
    response = admin_client_.get(f"/admin/listings/listing/{photo.listing_id}/change/")
    assert response.status_code == 200
    assert photo.image.name.encode() in response.content


def test_the_admin_cleans_up_expired_login_attempts(admin_client_, settings):
    # given: an attempt past the lockout's cool-off and a fresh one
    old = AccessAttempt.objects.create(username="a", ip_address="10.0.0.1", failures_since_start=1)
    AccessAttempt.objects.filter(pk=old.pk).update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME * 2
    )
    fresh = AccessAttempt.objects.create(
        username="b", ip_address="10.0.0.2", failures_since_start=1
    )
    # when
    response = admin_client_.post(
        "/admin/axes/accessattempt/",
        {"action": "cleanup_expired_attempts", "_selected_action": [old.pk, fresh.pk]},
    )
    # then
    assert response.status_code == 302
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_the_admin_asks_again_for_a_cross_check_that_was_given_up(admin_client_, settings):
    # given: a request whose check raised up to the limit
    from recognition.models import CrosscheckRequest
    from recognition.services import crosscheck_requests_create

    photo = PhotoFactory()
    crosscheck_requests_create(listing_ids=[photo.listing_id])
    CrosscheckRequest.objects.update(
        failures=settings.CROSSCHECK_MAX_FAILURES, last_error="RuntimeError: rule bug"
    )
    given_up = admin_client_.get("/admin/recognition/crosscheckrequest/?given_up=yes")
    assert b"RuntimeError: rule bug" in given_up.content
    request = CrosscheckRequest.objects.get()
    # when
    response = admin_client_.post(
        "/admin/recognition/crosscheckrequest/",
        {"action": "ask_again", "_selected_action": [request.pk]},
    )
    # then: sent again (eager here: checked at once) with its count cleared
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.failures, request.last_error, request.is_due) == (0, "", False)
    assert (
        b"RuntimeError"
        not in admin_client_.get("/admin/recognition/crosscheckrequest/?given_up=yes").content
    )


def test_the_admin_explains_a_photo_cut_inside_its_header(admin_client_):
    listing = ListingFactory()
    cut = SimpleUploadedFile("car.jpg", images.jpeg(600, 400)[:300])

    response = admin_client_.post(
        "/admin/listings/photo/add/", {"listing": listing.pk, "upload": cut}
    )

    assert response.status_code == 200
    assert b"image header cannot be read" in response.content
    assert not Photo.objects.filter(listing=listing).exists()
