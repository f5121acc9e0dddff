"""A listing changed or removed through the partner API: PATCH sets what the seller declares and
the listing is checked against the register again (the real cross-check over an imported
register); DELETE removes it with its photos, readings and flags, and keeps the moderators'
audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from recognition.models import CrosscheckRequest, Reading
from registry.services import register_import
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory
from webapp.checks.models import Flag
from webapp.checks.services import listing_crosscheck
from webapp.listings.models import Listing, ListingEdit, Photo
from webapp.listings.services import listing_declared_update
from webapp.review.models import AuditEntry
from webapp.review.services import flag_dismiss

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "registry" / "samples"


@pytest.fixture
def tesla_listed_as_honda(partner):
    """A listing whose photos show the register's grey 2020 Tesla (KA0101AM), declared a Honda:
    flagged for its make."""
    register_import(path=SAMPLES / "register_2024.csv", enqueue_crosscheck=False)
    listing = ListingFactory(
        owner=partner, marketplace_id="MP-TESLA", declared_make="Honda", declared_model="",
        declared_colour="grey", declared_year=2020,
    )  # fmt: skip
    photo = PhotoFactory(listing=listing, status=Photo.Status.DONE)
    ReadingFactory(photo=photo, plate_text="KA0101AM", plate_format="ua_2015", confidence=0.95)
    listing_crosscheck(listing_id=listing.pk)
    assert Flag.objects.filter(listing=listing, kind="make_mismatch").exists()
    return listing


def test_a_seller_s_correction_checks_the_listing_again(
    tesla_listed_as_honda, token_client, partner, django_capture_on_commit_callbacks
):
    listing = tesla_listed_as_honda
    # when the partner sends what the seller corrected
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(partner).patch(
            f"/api/v1/listings/{listing.pk}/",
            {"declared_make": "Tesla", "declared_model": "Model X"},
            format="json",
        )
    # then the listing says it, and the cross-check (sent once the edit committed) has run
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["declared_make"], body["declared_model"]) == ("Tesla", "Model X")
    listing.refresh_from_db()
    assert (listing.declared_colour, listing.declared_year) == ("grey", 2020)  # not sent: kept
    assert not Flag.objects.filter(listing=listing, kind="make_mismatch").exists()
    request = CrosscheckRequest.objects.get(listing=listing)
    assert request.checked_at is not None
    assert request.checked_at >= request.requested_at
    check = token_client(partner).get(f"/api/v1/listings/{listing.pk}/").json()["check"]
    assert (check["state"], check["verified"], check["fields"]["make"]) == ("clear", True, "match")


def test_the_same_values_again_change_nothing_and_ask_for_no_check(tesla_listed_as_honda):
    listing = tesla_listed_as_honda
    changed = listing_declared_update(
        listing_id=listing.pk, changes={"declared_make": "Honda", "declared_year": 2020}, by=None
    )
    assert changed == []
    assert not CrosscheckRequest.objects.filter(listing=listing).exists()


def test_a_dismissed_flag_stays_dismissed_when_the_edit_does_not_touch_it(
    tesla_listed_as_honda, moderator, django_capture_on_commit_callbacks
):
    listing = tesla_listed_as_honda
    flag = Flag.objects.get(listing=listing, kind="make_mismatch")
    flag_dismiss(flag_id=flag.pk, version=flag.version, user=moderator, reason="same car")
    with django_capture_on_commit_callbacks(execute=True):
        listing_declared_update(listing_id=listing.pk, changes={"declared_vin": ""}, by=None)
        listing_declared_update(
            listing_id=listing.pk, changes={"declared_colour": "сірий"}, by=moderator
        )
    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"declared_year": 1800}, "declared_year", "min_value"),
        ({"declared_vin": "X" * 18}, "declared_vin", "max_length"),
        ({"declared_make": "M" * 65}, "declared_make", "max_length"),
    ],
)
def test_a_bad_value_is_refused_on_its_field_and_nothing_changes(
    token_client, partner, payload, field, code
):
    listing = ListingFactory(owner=partner, declared_make="Lada", declared_year=2010)
    response = token_client(partner).patch(
        f"/api/v1/listings/{listing.pk}/", payload, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [(field, code)]
    listing.refresh_from_db()
    assert (listing.declared_make, listing.declared_year) == ("Lada", 2010)


def test_the_marketplace_id_is_not_changed_by_a_patch(token_client, partner):
    listing = ListingFactory(owner=partner, marketplace_id="MP-KEEP")
    response = token_client(partner).patch(
        f"/api/v1/listings/{listing.pk}/", {"marketplace_id": "MP-OTHER"}, format="json"
    )
    assert response.status_code == 200
    assert Listing.objects.get(pk=listing.pk).marketplace_id == "MP-KEEP"


def test_another_partner_can_neither_change_nor_delete_a_listing(
    token_client, partner, other_partner
):
    listing = ListingFactory(owner=partner, declared_make="Lada")
    client = token_client(other_partner)
    assert (
        client.patch(f"/api/v1/listings/{listing.pk}/", {"declared_make": "X"}).status_code == 404
    )
    assert client.delete(f"/api/v1/listings/{listing.pk}/").status_code == 404
    assert Listing.objects.get(pk=listing.pk).declared_make == "Lada"


def test_a_read_only_token_cannot_change_or_delete(token_client, partner):
    listing = ListingFactory(owner=partner)
    client = token_client(partner, scopes=["read"])
    assert (
        client.patch(f"/api/v1/listings/{listing.pk}/", {"declared_make": "X"}).status_code == 403
    )
    assert client.delete(f"/api/v1/listings/{listing.pk}/").status_code == 403
    assert Listing.objects.filter(pk=listing.pk).exists()


def test_put_is_not_offered(token_client, partner):
    listing = ListingFactory(owner=partner)
    response = token_client(partner).put(f"/api/v1/listings/{listing.pk}/", {}, format="json")
    assert response.status_code == 405


def test_deleting_a_listing_takes_its_photos_readings_and_flags_and_keeps_the_audit_log(
    tesla_listed_as_honda, token_client, partner, moderator
):
    listing = tesla_listed_as_honda
    flag = Flag.objects.get(listing=listing, kind="make_mismatch")
    flag_dismiss(flag_id=flag.pk, version=flag.version, user=moderator, reason="same car")
    other = PhotoFactory(status=Photo.Status.DONE)  # another listing's photo stays
    client = token_client(partner)

    response = client.delete(f"/api/v1/listings/{listing.pk}/")

    assert response.status_code == 204
    assert not Listing.objects.filter(pk=listing.pk).exists()
    assert not Photo.objects.filter(listing_id=listing.pk).exists()
    assert not Reading.objects.filter(photo__listing_id=listing.pk).exists()
    assert not Flag.objects.filter(pk=flag.pk).exists()
    assert Photo.objects.filter(pk=other.pk).exists()
    entry = AuditEntry.objects.get(flag_ref=flag.pk)
    assert (entry.action, entry.listing_id) == ("dismiss", None)
    assert client.delete(f"/api/v1/listings/{listing.pk}/").status_code == 404
    assert client.get(f"/api/v1/listings/{listing.pk}/").status_code == 404


def test_each_change_is_kept_with_its_values_before_and_after_and_who_sent_it(
    tesla_listed_as_honda, token_client, partner
):
    listing = tesla_listed_as_honda
    token_client(partner).patch(
        f"/api/v1/listings/{listing.pk}/",
        {"declared_make": "Tesla", "declared_year": 2021, "declared_colour": "grey"},
        format="json",
    )
    edit = ListingEdit.objects.get(listing=listing)
    assert edit.by == partner
    assert edit.changes == {"declared_make": ["Honda", "Tesla"], "declared_year": [2020, 2021]}


def test_a_change_in_the_admin_is_kept_and_checked_like_the_api_s(
    tesla_listed_as_honda, admin_client, admin_user, django_capture_on_commit_callbacks
):
    listing = tesla_listed_as_honda
    url = reverse("admin:listings_listing_change", args=[listing.pk])
    form = {
        "marketplace_id": "MP-TESLA-2", "owner": listing.owner_id, "declared_make": "Tesla",
        "declared_model": "", "declared_colour": "grey", "declared_year": 2020,
        "declared_plate": "", "declared_vin": "",
        "photos-TOTAL_FORMS": 1, "photos-INITIAL_FORMS": 1, "photos-MIN_NUM_FORMS": 0,
        "photos-MAX_NUM_FORMS": 1000, "photos-0-id": listing.photos.get().pk,
        "photos-0-listing": listing.pk,
        "edits-TOTAL_FORMS": 0, "edits-INITIAL_FORMS": 0, "edits-MIN_NUM_FORMS": 0,
        "edits-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    listing.refresh_from_db()
    assert (listing.marketplace_id, listing.declared_make) == ("MP-TESLA-2", "Tesla")
    edit = ListingEdit.objects.get(listing=listing)
    assert (edit.by, edit.changes) == (admin_user, {"declared_make": ["Honda", "Tesla"]})
    assert not Flag.objects.filter(listing=listing, kind="make_mismatch").exists()


def test_a_message_for_a_deleted_listing_s_photo_is_dropped(engine_control, token_client, partner):
    from recognition import tasks

    # given a photo queued for reading when its listing is deleted
    listing = ListingFactory(owner=partner)
    photo = PhotoFactory(listing=listing)
    assert token_client(partner).delete(f"/api/v1/listings/{listing.pk}/").status_code == 204
    # when the worker gets its message (and the batch path with a live photo beside it)
    tasks.recognize_photo.delay(photo.pk)
    other = PhotoFactory()
    tasks.recognize_photos.delay([photo.pk, other.pk])
    # then nothing is read or kept for it, and the other photo is read
    assert not Reading.objects.filter(photo_id=photo.pk).exists()
    assert not Photo.objects.filter(pk=photo.pk).exists()
    other.refresh_from_db()
    assert other.status == Photo.Status.DONE
