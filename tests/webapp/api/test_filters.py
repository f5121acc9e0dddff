"""Listing filters, ordering and cursor pagination with page_size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

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
