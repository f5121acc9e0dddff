"""Plate search page and API, a plate's history page, and the flag page's new parts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.fixtures.factories import FlagFactory, ListingFactory, ReadingFactory
from tests.webapp.review.conftest import done_photo
from tests.webapp.review.factories import RegisterRecordFactory
from webapp.gates import services as gate_services
from webapp.gates.models import Passage
from webapp.partners.tokens import token_create
from webapp.review.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen_twice(flagged_listing):
    """The flagged listing's plate (read AA1234B8) also read on a second listing."""
    other = ListingFactory(marketplace_id="MP-OTHER", declared_plate="")
    photo = done_photo(other)
    ReadingFactory(photo=photo, plate_text="AA1234BB", plate_format="ua")
    other_flag = FlagFactory(listing=other, kind="plate_on_other_listing", key="AA1234BB",
                             plate_text="AA1234BB", severity=3)  # fmt: skip
    RegisterRecordFactory(plate_latin="AA1234BB", colour="СІРИЙ", kind="ЛЕГКОВИЙ")
    RegisterRecordFactory(plate_latin="AA1234BB", brand="DAEWOO", model="LANOS",
                          d_reg="2016-04-02", colour="БІЛИЙ")  # fmt: skip
    gate = gate_services.gate_create(name="depot-gate")
    device = gate_services.device_create(gate=gate).device
    now = timezone.now()
    Passage.objects.create(gate=gate, device=device, started_at=now, last_frame_at=now,
                           frames_count=4, voted_plate="AA1234B8", confidence=0.91,
                           decision="deny", reason="not on the gate's list")  # fmt: skip
    Passage.objects.create(gate=gate, device=device, started_at=now, last_frame_at=now,
                           frames_count=2, voted_plate="KA0001XO", confidence=0.95,
                           decision="open")  # fmt: skip  # another plate
    AuditEntry.objects.create(user=None, action="dismiss", flag=other_flag,
                              flag_ref=other_flag.pk, listing=other, reason="re-listed",
                              before={"status": "open"}, after={"status": "dismissed"})  # fmt: skip
    return {**flagged_listing, "other": other, "other_flag": other_flag}


def test_the_search_page_finds_a_plate_through_ocr_errors(mod_client, seen_twice):
    page = mod_client.get(reverse("review:plate_search"), {"q": "aa 1234 bb"})
    assert page.status_code == 200
    sources = [(h.source, h.text) for h in page.context["result"].hits]
    assert ("reading", "AA1234BB") in sources
    assert ("reading", "AA1234B8") in sources  # the look-alike the engine read
    assert ("declared", "AA1234BB") in sources
    assert ("register", "AA1234BB") in sources
    assert ("passage", "AA1234B8") in sources  # a gate's vote
    assert reverse("review:plate_history", args=["AA1234B8"]) in page.content.decode()
    # the look-alike the engine read is marked against the query, with what was typed there
    assert '<span class="ch look-alike" title="look-alike of B">8</span>' in page.content.decode()


def test_the_search_page_explains_an_unusable_query(mod_client):
    page = mod_client.get(reverse("review:plate_search"), {"q": "A1"})
    assert page.status_code == 400
    assert "at least 4" in page.content.decode()


def test_the_search_page_explains_a_query_too_long_for_its_field(mod_client):
    # a plate pasted with a line's worth of spaces around it: more than the field takes
    page = mod_client.get(reverse("review:plate_search"), {"q": "AA 1234 BB" + " " * 60 + "x"})
    assert page.status_code == 400
    assert "at most 40 characters" in page.content.decode()


def test_the_search_api_is_for_moderators_only(client_for, moderator, partner, seen_twice):
    url = "/api/v1/plates/search/"
    assert client_for(partner).get(url, {"q": "AA1234BB"}).status_code == 403
    response = client_for(moderator).get(url, {"q": "AA 1234 B8"})
    assert response.status_code == 200
    body = response.json()
    assert body["key"] == "AA123488"
    assert {r["marketplace_id"] for r in body["results"] if r["source"] == "reading"} == {
        seen_twice["listing"].marketplace_id,
        "MP-OTHER",
    }
    bad = client_for(moderator).get(url, {"q": ""})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "bad_query"
    assert bad.json()["errors"][0]["attr"] == "q"


def test_the_search_api_needs_a_token_with_the_read_scope(moderator, seen_twice):
    # given: a moderator's tokens, one made for a snapshot script, one to read
    url = "/api/v1/plates/search/"
    snapshot_only, reader = APIClient(), APIClient()
    for client, scopes in ((snapshot_only, ["recognize"]), (reader, ["read"])):
        issued = token_create(user=moderator, name="script", scopes=scopes)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    # when / then: only the token that may read searches every partner's plates
    refused = snapshot_only.get(url, {"q": "AA1234BB"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "missing_scope"
    assert reader.get(url, {"q": "AA1234BB"}).status_code == 200


def test_the_api_refuses_anonymous_callers(api_client):
    assert api_client.get("/api/v1/plates/search/", {"q": "AA1234BB"}).status_code == 401


def test_the_history_page_shows_everything_about_the_plate(
    mod_client, seen_twice, second_moderator
):
    page = mod_client.get(reverse("review:plate_history", args=["AA1234BB"]))
    assert page.status_code == 200
    h = page.context["h"]
    assert {row.listing.marketplace_id for row in h.listings} == {
        seen_twice["listing"].marketplace_id,
        "MP-OTHER",
    }
    assert {r.plate_text for r in h.readings} == {"AA1234BB", "AA1234B8"}
    assert {f.pk for f in h.flags} == {seen_twice["flag"].pk, seen_twice["other_flag"].pk}
    assert [e.reason for e in h.decisions] == ["re-listed"]
    assert [(p.voted_plate, p.decision, p.gate.name) for p in h.passages] == [
        ("AA1234B8", "deny", "depot-gate")
    ]
    assert h.register_current.make == "TOYOTA"
    assert [r.make for r in h.register_history] == ["DAEWOO"]
    html = page.content.decode()
    assert 'СІРИЙ <span class="muted">(grey)</span>' in html
    assert "(passenger car)" in html
    assert 'БІЛИЙ <span class="muted">(white)</span>' in html
    assert "not on the gate&#x27;s list" in html
    # a staff moderator (a gate operator too) opens the passage's own page; others may not
    link = f'href="/gates/passages/{h.passages[0].pk}/"'
    assert link in html
    colleague = Client()
    colleague.force_login(second_moderator)
    theirs = colleague.get(reverse("review:plate_history", args=["AA1234BB"])).content.decode()
    assert "depot-gate" in theirs
    assert link not in theirs


def test_the_flag_page_links_the_history_and_other_listings(mod_client, seen_twice):
    flag = seen_twice["flag"]
    page = mod_client.get(reverse("review:flag", args=[flag.pk]))
    html = page.content.decode()
    assert reverse("review:plate_history", args=["AA1234B8"]) in html
    # the other listing (the same plate, read with a look-alike) is a link to its flag
    if connection.vendor == "postgresql":
        others = html.split('id="other-listings"', 1)[1].split("</ul>", 1)[0]
        assert f'href="{reverse("review:flag", args=[seen_twice["other_flag"].pk])}"' in others
    # evidence is a table, not a Python dict
    assert '<table class="evidence"' in html
    assert "{&#x27;declared&#x27;" not in html
    assert "<th>Declared</th><td>AA1234BB</td>" in html


def test_register_colour_is_translated_beside_the_original(mod_client, flagged_listing):
    RegisterRecordFactory(plate_latin="AA1234B8", colour="СІРИЙ", kind="ЛЕГКОВИЙ")
    page = mod_client.get(reverse("review:flag", args=[flagged_listing["flag"].pk]))
    compare = {row.label: row for row in page.context["d"].compare}
    assert (compare["Colour"].register, compare["Colour"].register_translated) == (
        "СІРИЙ",
        "grey",
    )
    assert compare["Kind"].register_translated == "passenger car"


def test_outsiders_get_no_plate_pages(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("review:plate_search"), {"q": "AA1234BB"}).status_code == 403
    assert client.get(reverse("review:plate_history", args=["AA1234BB"])).status_code == 403


def test_other_listings_are_the_flag_evidences_listings(mod_client, seen_twice):
    from webapp.checks.facts import other_listings_for_plates, plate_keys

    # given the flag's photo reads AA1234B8, the seller declared AA1234BB, and MP-OTHER's photo
    # reads AA1234BB; a third listing reads the look-alike only with a low confidence
    weak = ListingFactory(marketplace_id="MP-WEAK", declared_plate="")
    ReadingFactory(photo=done_photo(weak), plate_text="AA1234B8", confidence=0.2)
    listing = seen_twice["listing"]
    page = mod_client.get(reverse("review:flag", args=[seen_twice["flag"].pk]))
    others = {listing.marketplace_id for listing in page.context["d"].other_listings}
    # then the page lists exactly what the cross-check's evidence query finds
    keys = plate_keys(readings=["AA1234B8"], declared=listing.declared_plate)
    evidence = other_listings_for_plates(listing_id=listing.pk, plates=keys)
    assert others == {other.marketplace_id for other in evidence} == {"MP-OTHER"}
