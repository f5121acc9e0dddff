"""Listing filters, ordering and cursor pagination with page_size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from recognition.models import CrosscheckRequest
from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory, ReadingFactory
from webapp.checks.models import Flag
from webapp.listings.models import Listing, Photo

pytestmark = pytest.mark.django_db


def ids(client, **params) -> list[str]:
    response = client.get("/api/v1/listings/", params)
    assert response.status_code == 200, response.content
    return [item["marketplace_id"] for item in response.json()["results"]]


@pytest.fixture
def listings(partner):
    done = ListingFactory(owner=partner, marketplace_id="DONE", declared_plate="AA1111AA")
    PhotoFactory(listing=done, status=Photo.Status.DONE)
    busy = ListingFactory(owner=partner, marketplace_id="BUSY")
    PhotoFactory(listing=busy, status=Photo.Status.PENDING)
    flagged = ListingFactory(owner=partner, marketplace_id="FLAGGED")
    FlagFactory(listing=flagged, kind=Flag.Kind.MAKE_MISMATCH, key="make")
    read = ListingFactory(owner=partner, marketplace_id="READ")
    ReadingFactory(
        photo=PhotoFactory(listing=read, status=Photo.Status.DONE), plate_text="BB2222BB"
    )
    confirmed = ListingFactory(owner=partner, marketplace_id="CONFIRMED")
    FlagFactory(listing=confirmed, status=Flag.Status.CONFIRMED, plate_text="CC3333CC")
    return {"done": done, "busy": busy, "flagged": flagged, "read": read, "confirmed": confirmed}


def test_marketplace_id_status_flag_kind_and_plate(token_client, partner, listings):
    client = token_client(partner)
    assert ids(client, marketplace_id="BUSY") == ["BUSY"]
    assert ids(client, status="processing") == ["BUSY"]
    assert ids(client, status="flagged") == ["FLAGGED"]
    assert ids(client, status="confirmed") == ["CONFIRMED"]
    assert sorted(ids(client, status="clear")) == ["DONE", "READ"]
    assert ids(client, flag_kind="make_mismatch") == ["FLAGGED"]
    assert ids(client, plate="aa 1111 aa") == ["DONE"]
    assert ids(client, plate="BB2222BB") == ["READ"]
    assert ids(client, plate="CC3333CC") == ["CONFIRMED"]
    bad = client.get("/api/v1/listings/", {"status": "nonsense"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "status"


def test_updated_since_counts_photo_and_flag_changes(token_client, partner, listings):
    past = timezone.now() - timedelta(days=3)
    Listing.objects.update(updated_at=past)
    Photo.objects.update(updated_at=past)
    Flag.objects.update(updated_at=past)
    Photo.objects.filter(listing=listings["busy"]).update(updated_at=timezone.now())
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(token_client(partner), updated_since=since) == ["BUSY"]


def test_ordering_and_cursor_pages_of_page_size(token_client, partner, listings):
    client = token_client(partner)
    assert ids(client, ordering="marketplace_id") == sorted(m.upper() for m in listings)
    seen, url = [], "/api/v1/listings/?page_size=2&ordering=marketplace_id"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [item["marketplace_id"] for item in page["results"]]
        url = page["next"]
    assert seen == sorted(m.upper() for m in listings)


def test_plate_finds_declared_plates_as_the_seller_typed_them(token_client, partner):
    # given: plates declared with spaces, dashes, in Cyrillic look-alikes and in lower case
    for marketplace_id, declared in [
        ("SPACED", "AA 1234 BB"),
        ("DASHED", "aa-1234-bb"),
        ("CYRILLIC", "АА1234ВВ"),
        ("CYRILLIC-LOWER", "аа 1234 вв"),
        ("OTHER", "AA 1234 BC"),
    ]:
        ListingFactory(owner=partner, marketplace_id=marketplace_id, declared_plate=declared)
    client = token_client(partner)
    # when / then: the plate, typed either way, finds each of them and nothing else
    expected = ["CYRILLIC", "CYRILLIC-LOWER", "DASHED", "SPACED"]
    assert sorted(ids(client, plate="AA1234BB")) == expected
    assert sorted(ids(client, plate="АА 1234 ВВ")) == expected
    assert ids(client, plate="AA1234BB(*") == []  # a pattern's characters are only characters


@pytest.mark.parametrize(
    "ordering", ["created_at", "-created_at", "updated_at", "-updated_at", "-marketplace_id"]
)
def test_cursor_pages_hold_each_listing_once_when_the_ordering_ties(
    token_client, partner, ordering
):
    # given: listings written in one statement share created_at and updated_at
    for n in range(30):
        ListingFactory(owner=partner, marketplace_id=f"TIE-{n:02d}")
    same = timezone.now()
    Listing.objects.update(created_at=same, updated_at=same)
    client = token_client(partner)
    # when: a partner walks every page
    seen, url = [], f"/api/v1/listings/?page_size=4&ordering={ordering}"
    while url:
        page = client.get(url).json()
        seen += [item["marketplace_id"] for item in page["results"]]
        url = page["next"]
    # then: each listing exactly once, in the same order on every walk
    assert sorted(seen) == [f"TIE-{n:02d}" for n in range(30)]
    assert ids(client, ordering=ordering, page_size=30) == seen


def test_a_listing_waiting_for_its_cross_check_is_processing_not_clear(token_client, partner):
    # given: photos read, the cross-check asked for but not run yet (a broker down, a worker
    # busy), and a listing whose check ran after it was last asked for
    waiting = ListingFactory(owner=partner, marketplace_id="WAITING")
    PhotoFactory(listing=waiting, status=Photo.Status.DONE)
    CrosscheckRequest.objects.create(listing=waiting, requested_at=timezone.now())
    checked = ListingFactory(owner=partner, marketplace_id="CHECKED")
    PhotoFactory(listing=checked, status=Photo.Status.DONE)
    asked = timezone.now() - timedelta(minutes=5)
    CrosscheckRequest.objects.create(
        listing=checked, requested_at=asked, checked_at=asked + timedelta(seconds=2)
    )
    client = token_client(partner)
    # then: the unchecked listing is not reported clear before anything was compared
    assert ids(client, status="clear") == ["CHECKED"]
    assert ids(client, status="processing") == ["WAITING"]
