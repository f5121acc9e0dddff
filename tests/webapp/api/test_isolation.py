"""Partner A sees nothing of partner B: lists, details, evidence, photos, webhooks, tokens."""

from __future__ import annotations

import pytest

from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory
from webapp.api.serializers import ANOTHER_LISTING
from webapp.checks.models import Flag
from webapp.listings.models import Photo
from webapp.partners.models import WebhookDelivery
from webapp.partners.webhooks import webhook_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_plate(partner, other_partner):
    """The same plate on a listing of each partner; A's flag names both listings."""
    mine = ListingFactory(owner=partner, marketplace_id="A-1")
    theirs = ListingFactory(owner=other_partner, marketplace_id="B-SECRET-1")
    FlagFactory(
        listing=mine,
        kind=Flag.Kind.PLATE_ON_OTHER_LISTING,
        key="AA1234BB",
        evidence={
            "plate": "AA1234BB",
            "listings": [
                {"listing_id": theirs.pk, "marketplace_id": "B-SECRET-1", "via": "photos"}
            ],
        },
        note="moderator: seller B is a known fraudster",
    )
    return mine, theirs


def test_lists_and_details_hold_only_own_listings(token_client, partner, other_partner):
    mine, theirs = ListingFactory(owner=partner), ListingFactory(owner=other_partner)
    client = token_client(partner)
    assert [x["id"] for x in client.get("/api/v1/listings/").json()["results"]] == [mine.pk]
    assert client.get(f"/api/v1/listings/{theirs.pk}/").status_code == 404
    found = client.get("/api/v1/listings/", {"marketplace_id": theirs.marketplace_id}).json()
    assert found["results"] == []


def test_evidence_says_another_listing_without_ids_and_no_notes(
    token_client, partner, shared_plate
):
    mine, theirs = shared_plate
    response = token_client(partner).get(f"/api/v1/listings/{mine.pk}/")
    text = response.content.decode()
    assert "B-SECRET-1" not in text
    assert f'"listing_id":{theirs.pk}' not in text.replace(" ", "")
    assert "fraudster" not in text
    flag = response.json()["flags"][0]
    assert flag["evidence"]["listings"] == [{"listing": ANOTHER_LISTING, "via": "photos"}]
    assert "note" not in flag


def test_moderators_still_see_everything(client_for, moderator, shared_plate):
    mine, theirs = shared_plate
    flag = client_for(moderator).get(f"/api/v1/listings/{mine.pk}/").json()["flags"][0]
    assert flag["evidence"]["listings"][0]["marketplace_id"] == "B-SECRET-1"
    assert flag["evidence"]["listings"][0]["listing_id"] == theirs.pk


def test_engine_error_text_becomes_a_code(token_client, partner):
    PhotoFactory(
        listing=ListingFactory(owner=partner),
        status=Photo.Status.FAILED,
        last_error="RuntimeError: CUDA error at /opt/secret/path.py:12",
    )
    text = token_client(partner).get("/api/v1/listings/").content.decode()
    assert "CUDA" not in text
    assert "/opt/secret" not in text
    assert '"error_code":"recognition_failed"' in text.replace(" ", "")


def test_photos_of_another_partner_are_refused(token_client, api_client, partner, other_partner):
    photo = PhotoFactory(listing=ListingFactory(owner=other_partner))
    client = token_client(partner)
    assert client.get(f"/api/v1/photos/{photo.pk}/file/").status_code == 404
    assert api_client.get(f"/api/v1/photos/{photo.pk}/file/").status_code == 401
    owner = token_client(other_partner).get(f"/api/v1/photos/{photo.pk}/file/")
    assert owner.status_code == 200
    assert b"".join(owner.streaming_content)[:3] == b"\xff\xd8\xff"


def test_webhooks_of_another_partner_are_invisible(token_client, partner, other_partner):
    theirs = webhook_endpoint_create(
        owner=other_partner, url="http://127.0.0.1:9/hook", events=["flag.decided"]
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=theirs, event="flag.decided", message_id="msg_x", payload={"secret": 1}
    )
    client = token_client(partner)
    assert client.get("/api/v1/webhooks/endpoints/").json()["results"] == []
    assert client.get(f"/api/v1/webhooks/endpoints/{theirs.pk}/").status_code == 404
    assert client.delete(f"/api/v1/webhooks/endpoints/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/webhooks/deliveries/").json()["results"] == []
    # filtering by their endpoint looks the same as filtering by one that does not exist
    for endpoint_id in (theirs.pk, 999_999):
        answer = client.get("/api/v1/webhooks/deliveries/", {"endpoint": endpoint_id})
        assert (answer.status_code, answer.json()["results"]) == (200, [])
    redeliver = client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert redeliver.status_code == 404


def test_events_of_a_listing_go_only_to_its_owner(partner, other_partner):
    from webapp.partners.webhooks import webhook_event_emit

    mine = webhook_endpoint_create(
        owner=partner, url="http://127.0.0.1:9/a", events=["flag.decided"]
    )
    webhook_endpoint_create(
        owner=other_partner, url="http://127.0.0.1:9/b", events=["flag.decided"]
    )
    listing = ListingFactory(owner=partner)
    assert webhook_event_emit(event="flag.decided", listing_id=listing.pk, data={"flag_id": 1}) == 1
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [mine.pk]


def test_a_watch_list_flag_tells_a_partner_why_but_not_who_reported_it(
    token_client, partner, django_capture_on_commit_callbacks
):
    from registry.watchlist import watch_entry_add

    mine = ListingFactory(owner=partner, declared_plate="AA1234BB")
    with django_capture_on_commit_callbacks(execute=True):
        watch_entry_add(plate="AA1234BB", source="buyer Ivan P., +380 67 000 00 00",
                        note="seen at the Lviv market")  # fmt: skip
    response = token_client(partner).get(f"/api/v1/listings/{mine.pk}/")
    [flag] = [f for f in response.json()["flags"] if f["kind"] == "plate_watched"]
    assert flag["evidence"]["reason"] == "stolen"
    assert flag["evidence"]["via"] == "declared"
    text = response.content.decode()
    assert "Ivan" not in text
    assert "Lviv" not in text
    assert "watch_entry" not in text
