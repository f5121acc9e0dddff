"""Every page answers, on whichever database DATABASE_URL names; CI runs this file on SQLite
too (``DATABASE_URL=sqlite:///var/smoke.sqlite3``), the demo's database."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.fixtures.factories import FlagFactory, PhotoFactory, ReadingFactory
from tests.webapp.review.factories import RegisterRecordFactory
from webapp.review import services
from webapp.review.models import MODERATORS_GROUP


@pytest.mark.django_db
def test_it_creates_core_rows_with_factories():
    reading = ReadingFactory()
    flag = FlagFactory(listing=reading.photo.listing)
    assert reading.photo.image.name.startswith("photos/")
    assert flag.listing.photos.count() == 1
    assert PhotoFactory().sha256 != reading.photo.sha256


@pytest.mark.django_db
def test_healthz_reports_each_check(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["engine"]["detail"].startswith("det-")


@pytest.fixture
def staff_moderator(moderator) -> Client:
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def some_rows(moderator):
    reading = ReadingFactory(plate_text="AA1234B8", model_version="det-x+ocr-y")
    listing = reading.photo.listing
    listing.declared_plate = "AA1234BB"
    listing.save()
    flag = FlagFactory(listing=listing, key="AA1234B8", plate_text="AA1234B8",
                       evidence={"declared": "AA1234BB", "read": "AA1234B8"})  # fmt: skip
    other = FlagFactory(key="X", plate_text="KA0001XO")
    services.flag_dismiss(flag_id=other.pk, version=other.version, user=moderator, reason="ok")
    RegisterRecordFactory(plate_latin="AA1234BB")
    return {"flag": flag}


@pytest.mark.django_db
def test_every_page_answers(staff_moderator, some_rows, settings):
    settings.METRICS_ALLOWED_ADDRESSES = []
    flag = some_rows["flag"]
    pages = {
        reverse("review:queue"): "AA1234B8",
        reverse("review:queue") + "?status=&sort=-plate&plate=aa1234bb": "AA1234B8",
        reverse("review:flag", args=[flag.pk]): "History of AA1234B8",
        reverse("review:dashboard"): "svg",
        reverse("review:plate_search") + "?q=AA1234BB": "declared by seller",
        reverse("review:plate_history", args=["AA1234BB"]): "Register records over time",
        reverse("review:audit_log"): "audit-log",
        reverse("review:audit_csv"): "dismiss",
        reverse("ops:model_versions"): "det-x+ocr-y",
        "/api/v1/plates/search/?q=AA1234BB": "AA1234B8",
        "/metrics": "platecheck_photos",
    }
    for url, expected in pages.items():
        response = staff_moderator.get(url)
        assert response.status_code == 200, url
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
        assert expected in body, url


@pytest.mark.django_db
def test_the_bulk_confirmation_page_answers(staff_moderator, some_rows):
    response = staff_moderator.post(
        reverse("review:bulk"),
        {"scope": "filter", "decision": "confirm", "querystring": "status=open"},
    )
    assert response.status_code == 200
    assert response.context["total"] == 1
