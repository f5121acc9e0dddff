"""The listings list costs a fixed number of queries, however many listings a page holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory, ReadingFactory
from webapp.api.serializers import ANOTHER_LISTING
from webapp.checks.models import Flag

pytestmark = pytest.mark.django_db


def _listing_seen_elsewhere(owner, elsewhere):
    """A listing of `owner` with a read photo and a flag: its plate is on `elsewhere` too."""
    listing = ListingFactory(owner=owner)
    ReadingFactory(photo=PhotoFactory(listing=listing), plate_text="AA1234BB")
    FlagFactory(
        listing=listing,
        kind=Flag.Kind.PLATE_ON_OTHER_LISTING,
        key=f"other-{listing.pk}",
        evidence={"listings": [{"listing_id": elsewhere.pk, "via": "photos"}]},
    )
    return listing


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/listings/", {"page_size": 50})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_flags_about_other_listings_cost_no_query_per_flag(token_client, partner, other_partner):
    # given: a partner whose listings' plates show up on another partner's listing
    elsewhere = ListingFactory(owner=other_partner)
    _listing_seen_elsewhere(partner, elsewhere)
    client = token_client(partner)
    _queries(client)  # the token's first use writes its last-used time
    one = _queries(client)
    for _ in range(9):
        _listing_seen_elsewhere(partner, elsewhere)
    # when / then: ten listings cost what one did, and the other listing is still anonymous
    assert _queries(client) == one
    body = client.get("/api/v1/listings/").json()
    assert len(body["results"]) == 10
    for item in body["results"]:
        assert item["flags"][0]["evidence"]["listings"] == [
            {"listing": ANOTHER_LISTING, "via": "photos"}
        ]
