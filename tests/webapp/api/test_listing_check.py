"""A listing's check in the partner API: its state, and whether the register vouches for the car
(webapp/checks/verdicts.py), stored by the real cross-check over an imported register."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.services import register_import
from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory, ReadingFactory
from webapp.checks.models import Flag, ListingVerdict
from webapp.checks.services import listing_crosscheck
from webapp.checks.tasks import crosscheck_listing
from webapp.listings.models import Photo
from webapp.partners.models import WebhookDelivery
from webapp.review.services import flag_dismiss

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "registry" / "samples"
CAMRY = {"declared_make": "Toyota", "declared_model": "Camry", "declared_colour": "white",
         "declared_year": 2018}  # fmt: skip
# The sample register's other cars (tests/registry/samples/register_2024.csv), each its own
# plate: listings that share a plate are flagged for it (plate_on_other_listing).
BMW = {"declared_make": "BMW", "declared_model": "X5", "declared_colour": "black",
       "declared_year": 2016}  # fmt: skip
TESLA_AS_HONDA = {"declared_make": "Honda", "declared_model": "", "declared_colour": "grey",
                  "declared_year": 2020}  # fmt: skip
LEXUS = {"declared_make": "Lexus", "declared_model": "IS 250", "declared_colour": "red",
         "declared_year": 2008}  # fmt: skip
MERCEDES = {"declared_make": "Mercedes-Benz", "declared_model": "E 220", "declared_colour": "blue",
            "declared_year": 2012}  # fmt: skip
PASSAT = {"declared_make": "Volkswagen", "declared_model": "Passat", "declared_colour": "grey",
          "declared_year": 2011}  # fmt: skip


@pytest.fixture
def register() -> None:
    register_import(path=SAMPLES / "register_2024.csv", enqueue_crosscheck=False)


def _listing(owner, marketplace_id: str, *reads: tuple[str, float], **declared):
    listing = ListingFactory(owner=owner, marketplace_id=marketplace_id, **declared)
    for text, confidence in reads:
        photo = PhotoFactory(listing=listing, status=Photo.Status.DONE)
        ReadingFactory(photo=photo, plate_text=text, plate_format="ua_2015", confidence=confidence)
    return listing


def _checks(client, **params) -> dict[str, dict]:
    response = client.get("/api/v1/listings/", params)
    assert response.status_code == 200, response.content
    return {item["marketplace_id"]: item["check"] for item in response.json()["results"]}


def test_a_car_the_register_knows_is_verified_and_says_what_it_rests_on(
    register, token_client, partner
):
    listing = _listing(partner, "CAMRY", ("AA1234BB", 0.96), ("AA1234BB", 0.91), **CAMRY)
    listing_crosscheck(listing_id=listing.pk)

    check = token_client(partner).get(f"/api/v1/listings/{listing.pk}/").json()["check"]

    assert check["state"] == "clear"
    assert check["verified"] is True
    assert check["reason"] == ""
    assert (check["plate"], check["plate_source"]) == ("AA1234BB", "photos")
    assert check["register"]["brand"] == "TOYOTA"
    assert check["register"]["make_year"] == 2018
    assert check["fields"] == {"make": "match", "model": "match", "colour": "match",
                               "year": "match"}  # fmt: skip
    assert check["checked_at"]


def test_what_keeps_a_listing_from_being_verified(register, token_client, partner, moderator):
    unsure = _listing(partner, "UNSURE", ("AA1234BB", 0.7), **CAMRY)
    declared = _listing(partner, "DECLARED", declared_plate="BC7777AX", **BMW)
    other = _listing(partner, "OTHER-CAR", ("KA0101AM", 0.95), **TESLA_AS_HONDA)
    unknown = _listing(partner, "UNKNOWN", ("KA0001AA", 0.95), **CAMRY)
    for listing in (unsure, declared, other, unknown):
        listing_crosscheck(listing_id=listing.pk)
    never = _listing(partner, "NEVER-CHECKED", ("AX1312KK", 0.95), **LEXUS)
    client = token_client(partner)

    checks = _checks(client)

    reasons = {mid: (c["state"], c["verified"], c["reason"]) for mid, c in checks.items()}
    assert reasons == {
        "UNSURE": ("clear", False, "plate_unsure"),
        "DECLARED": ("clear", False, "plate_not_on_photos"),
        "OTHER-CAR": ("flagged", False, "flagged"),  # a make mismatch waits for a moderator
        "UNKNOWN": ("flagged", False, "flagged"),  # plate not in register
        "NEVER-CHECKED": ("clear", False, "not_checked"),
    }
    assert never.pk  # the listing no cross-check has seen yet
    # A moderator dismisses the make mismatch: the listing is clear, still not verified, as
    # the register's car is not the declared one.
    flag = Flag.objects.get(listing=other, kind="make_mismatch")
    flag_dismiss(flag_id=flag.pk, version=flag.version, user=moderator, reason="dealer typo")
    after = _checks(client)["OTHER-CAR"]
    assert (after["state"], after["verified"], after["reason"]) == ("clear", False, "car_differs")
    assert after["fields"]["make"] == "mismatch"


def test_a_dismissed_flag_leaves_a_proven_car_verified(register, token_client, partner, moderator):
    listing = _listing(partner, "CAMRY", ("AA1234BB", 0.95), **CAMRY)
    listing_crosscheck(listing_id=listing.pk)
    flag = FlagFactory(listing=listing, kind=Flag.Kind.MULTIPLE_PLATES, key="", severity=1)
    client = token_client(partner)
    assert _checks(client)["CAMRY"]["state"] == "flagged"

    flag_dismiss(flag_id=flag.pk, version=flag.version, user=moderator, reason="background car")

    assert _checks(client)["CAMRY"]["verified"] is True


def test_the_filters_and_the_listings_agree(register, token_client, partner):
    verified = _listing(partner, "VERIFIED", ("AI5555IA", 0.95), **MERCEDES)
    unsure = _listing(partner, "UNSURE", ("BI0007BI", 0.7), **PASSAT)
    flagged = _listing(partner, "FLAGGED", ("KA0001AA", 0.95), **CAMRY)
    for listing in (verified, unsure, flagged):
        listing_crosscheck(listing_id=listing.pk)
    busy = ListingFactory(owner=partner, marketplace_id="BUSY")
    PhotoFactory(listing=busy, status=Photo.Status.PENDING)
    client = token_client(partner)
    checks = _checks(client)

    for state in ("processing", "flagged", "confirmed", "clear"):
        expected = sorted(mid for mid, c in checks.items() if c["state"] == state)
        assert sorted(_checks(client, status=state)) == expected, state
    assert sorted(_checks(client, verified="true")) == ["VERIFIED"]
    assert sorted(_checks(client, verified="false")) == ["BUSY", "FLAGGED", "UNSURE"]
    assert client.get("/api/v1/listings/", {"verified": "maybe"}).status_code == 400


def test_the_listing_checked_webhook_says_where_the_check_stands(
    register, token_client, partner, settings, django_capture_on_commit_callbacks
):
    token_client(partner, scopes=["webhooks"]).post(
        "/api/v1/webhooks/endpoints/",
        {"url": "http://127.0.0.1:9/hook", "events": ["listing.checked"]},
        format="json",
    )
    listing = _listing(partner, "CAMRY", ("AA1234BB", 0.95), **CAMRY)

    with django_capture_on_commit_callbacks(execute=False):
        crosscheck_listing(listing.pk)

    data = WebhookDelivery.objects.get(event="listing.checked").payload["data"]
    assert {k: data[k] for k in ("flags", "state", "verified", "reason")} == {
        "flags": 0, "state": "clear", "verified": True, "reason": "",
    }  # fmt: skip
    assert ListingVerdict.objects.get(listing=listing).reason == ""


def test_a_listing_list_reads_its_checks_without_a_query_per_listing(
    register, token_client, partner
):
    client = token_client(partner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            checks = _checks(client)
        assert {c["state"] for c in checks.values()} == {"clear"}
        return len(captured.captured_queries)

    cars = [("AA1234BB", CAMRY), ("AX1312KK", LEXUS), ("AI5555IA", MERCEDES)]
    listing_crosscheck(listing_id=_listing(partner, "L0", (cars[0][0], 0.95), **cars[0][1]).pk)
    queries()  # the token's use is recorded (one UPDATE), then not again for a while
    one = queries()
    for i, (plate, car) in enumerate(cars[1:], start=1):
        listing_crosscheck(listing_id=_listing(partner, f"L{i}", (plate, 0.95), **car).pk)
    assert queries() == one
