"""Conditional requests on a listing: its ETag follows what a partner can read of it, GET
answers 304 to If-None-Match, and If-Match keeps a partner's PATCH or DELETE from overwriting a
change it has not seen (two partners' programs editing the same listing)."""

from __future__ import annotations

import re

import pytest

from recognition.models import CrosscheckRequest
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory
from webapp.listings.models import Listing, ListingEdit, Photo
from webapp.listings.services import listing_declared_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(partner):
    return ListingFactory(
        owner=partner, marketplace_id="MP-ETAG", declared_make="Honda", declared_model="Civic",
        declared_colour="grey", declared_year=2019,
    )  # fmt: skip


def url(listing: Listing) -> str:
    return f"/api/v1/listings/{listing.pk}/"


def etag_of(client, listing: Listing) -> str:
    response = client.get(url(listing))
    assert response.status_code == 200
    etag = response["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    return etag


def test_a_poll_with_the_current_etag_gets_304_with_no_body(listing, token_client, partner):
    client = token_client(partner)
    etag = etag_of(client, listing)
    assert etag_of(client, listing) == etag  # nothing changed: the same ETag
    # when the partner polls again with it
    response = client.get(url(listing), HTTP_IF_NONE_MATCH=etag)
    # then
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    # a list of tags holding it, or a weak one, matches too (If-None-Match compares weakly)
    assert client.get(url(listing), HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert client.get(url(listing), HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert client.get(url(listing), HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_etag_changes_when_a_photo_is_read(listing, token_client, partner):
    client = token_client(partner)
    photo = PhotoFactory(listing=listing, status=Photo.Status.PENDING)
    before = etag_of(client, listing)
    # when the photo is read
    ReadingFactory(photo=photo, plate_text="KA0101AM", plate_format="ua_2015", confidence=0.95)
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.DONE)
    # then a poll with the old ETag gets the listing, with the reading
    response = client.get(url(listing), HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200
    assert response["ETag"] != before
    readings = response.json()["photos"][0]["readings"]
    assert [r["plate_text"] for r in readings] == ["KA0101AM"]


def test_a_patch_on_what_was_read_goes_ahead_and_returns_the_new_etag(
    listing, token_client, partner
):
    client = token_client(partner)
    etag = etag_of(client, listing)
    # when
    response = client.patch(
        url(listing), {"declared_model": "Accord"}, format="json", HTTP_IF_MATCH=etag
    )
    # then
    assert response.status_code == 200, response.content
    assert response.json()["declared_model"] == "Accord"
    assert response["ETag"] not in ("", etag)
    assert response["ETag"] == etag_of(client, listing)


def test_one_listing_has_one_etag_under_any_host_name_or_scheme(
    listing, token_client, partner, settings
):
    # given: a program that reads through the public name and writes through the balancer's,
    # a listing whose photo links are absolute
    settings.ALLOWED_HOSTS = ["api.platecheck.test", "lb.internal"]
    PhotoFactory(listing=listing)
    client = token_client(partner)
    public = client.get(url(listing), HTTP_HOST="api.platecheck.test", secure=True)
    assert "https://api.platecheck.test/" in public.content.decode()
    internal = client.get(url(listing), HTTP_HOST="lb.internal")
    assert "http://lb.internal/" in internal.content.decode()
    # then: one tag, and a write through the other name with it goes ahead
    assert public["ETag"] == internal["ETag"]
    response = client.patch(
        url(listing), {"declared_model": "Accord"}, format="json",
        HTTP_IF_MATCH=public["ETag"], HTTP_HOST="lb.internal",
    )  # fmt: skip
    assert response.status_code == 200, response.content


def test_the_second_of_two_edits_from_the_same_read_is_refused_and_changes_nothing(
    listing, token_client, partner
):
    # given two programs of the partner that read the listing at the same time
    first, second = token_client(partner), token_client(partner)
    etag = etag_of(first, listing)
    assert etag_of(second, listing) == etag
    # when the first changes the colour, then the second, which has not seen it, the year
    assert (
        first.patch(
            url(listing), {"declared_colour": "red"}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 200
    )
    refused = second.patch(url(listing), {"declared_year": 2021}, format="json", HTTP_IF_MATCH=etag)
    # then the second is told, and nothing of it was kept or asked for
    assert refused.status_code == 412
    assert refused.json()["errors"][0]["code"] == "precondition_failed"
    listing.refresh_from_db()
    assert (listing.declared_colour, listing.declared_year) == ("red", 2019)
    assert ListingEdit.objects.filter(listing=listing).count() == 1
    assert CrosscheckRequest.objects.filter(listing=listing).count() == 1
    # and it succeeds once it has read the listing again
    fresh = etag_of(second, listing)
    again = second.patch(url(listing), {"declared_year": 2021}, format="json", HTTP_IF_MATCH=fresh)
    assert again.status_code == 200
    assert again.json()["declared_year"] == 2021


def test_if_match_compares_strongly_and_star_matches_any_listing(listing, token_client, partner):
    client = token_client(partner)
    etag = etag_of(client, listing)
    weak = client.patch(
        url(listing), {"declared_make": "Kia"}, format="json", HTTP_IF_MATCH=f"W/{etag}"
    )
    assert weak.status_code == 412  # a weak tag never matches If-Match (RFC 9110 13.1.1)
    listed = client.patch(
        url(listing), {"declared_make": "Kia"}, format="json", HTTP_IF_MATCH=f'"x", {etag}'
    )
    assert listed.status_code == 200
    star = client.patch(url(listing), {"declared_make": "Opel"}, format="json", HTTP_IF_MATCH="*")
    assert star.status_code == 200
    listing.refresh_from_db()
    assert listing.declared_make == "Opel"


def test_a_patch_with_if_none_match_star_is_refused_on_an_existing_listing(
    listing, token_client, partner
):
    client = token_client(partner)
    response = client.patch(
        url(listing), {"declared_make": "Kia"}, format="json", HTTP_IF_NONE_MATCH="*"
    )
    assert response.status_code == 412
    listing.refresh_from_db()
    assert listing.declared_make == "Honda"


def test_a_delete_of_a_listing_changed_since_it_was_read_is_refused(listing, token_client, partner):
    client = token_client(partner)
    etag = etag_of(client, listing)
    # given the seller's correction, sent by another program since the read
    listing_declared_update(listing_id=listing.pk, changes={"declared_model": "Jazz"}, by=partner)
    # when the stale delete comes
    refused = client.delete(url(listing), HTTP_IF_MATCH=etag)
    # then the listing stays; with its ETag now, the delete goes ahead
    assert refused.status_code == 412
    assert Listing.objects.filter(pk=listing.pk).exists()
    deleted = client.delete(url(listing), HTTP_IF_MATCH=etag_of(client, listing))
    assert deleted.status_code == 204
    assert not Listing.objects.filter(pk=listing.pk).exists()


def test_without_if_match_the_last_write_wins_as_before(listing, token_client, partner):
    client = token_client(partner)
    etag_of(client, listing)
    listing_declared_update(listing_id=listing.pk, changes={"declared_model": "Jazz"}, by=partner)
    response = client.patch(url(listing), {"declared_model": "Accord"}, format="json")
    assert response.status_code == 200
    assert response.json()["declared_model"] == "Accord"


def test_a_precondition_that_raises_leaves_the_listing_as_it_was(listing, partner):
    class Refused(Exception):
        pass

    seen = []

    def refuse(locked: Listing) -> None:
        seen.append((locked.pk, locked.declared_make))
        raise Refused

    with pytest.raises(Refused):
        listing_declared_update(
            listing_id=listing.pk, changes={"declared_make": "Kia"}, by=partner,
            precondition=refuse,
        )  # fmt: skip
    assert seen == [(listing.pk, "Honda")]
    listing.refresh_from_db()
    assert listing.declared_make == "Honda"
    assert not ListingEdit.objects.filter(listing=listing).exists()
    assert not CrosscheckRequest.objects.filter(listing=listing).exists()


def test_the_schema_documents_the_conditional_headers(client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    detail = paths["/api/v1/listings/{id}/"]
    assert "304" in detail["get"]["responses"]
    assert "ETag" in detail["get"]["responses"]["200"]["headers"]
    for method in ("patch", "delete"):
        assert "412" in detail[method]["responses"], method
        headers = {p["name"] for p in detail[method]["parameters"] if p["in"] == "header"}
        assert "If-Match" in headers, method


def test_a_page_of_listings_carries_an_etag_and_a_poll_gets_304_until_it_changes(
    listing, token_client, partner
):
    client = token_client(partner)
    photo = PhotoFactory(listing=listing, status=Photo.Status.PENDING)
    page = "/api/v1/listings/?page_size=10"
    first = client.get(page)
    assert first.status_code == 200
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    # when the partner polls with it
    again = client.get(page, HTTP_IF_NONE_MATCH=etag)
    # then
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    # another page of the same listings is another body, another tag
    assert client.get("/api/v1/listings/?page_size=5")["ETag"] == etag  # one listing: same body
    assert client.get("/api/v1/listings/?status=confirmed")["ETag"] != etag  # none: empty
    # when a photo of the page's listing is read, the page is new
    ReadingFactory(photo=photo, plate_text="KA0101AM", plate_format="ua_2015", confidence=0.95)
    changed = client.get(page, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["results"][0]["photos"][0]["readings"][0]["plate_text"] == "KA0101AM"
