"""Partner usage: photos read counted a day and a kind, a monthly quota that is never passed,
`GET /api/v1/usage/`, the `usage.quota` webhook and the /metrics gauges."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from recognition.engine_loader import reset_engine
from tests.fixtures import images
from tests.fixtures.locks import in_thread
from webapp.listings.models import Photo
from webapp.partners.models import (
    PartnerQuota,
    UsageDay,
    UsageKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webapp.partners.usage import QuotaExceeded, usage_charge, usage_quota

pytestmark = pytest.mark.django_db


def _jpeg(shade: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{shade}.jpg", images.jpeg(colour=(shade, 30, 30)), "image/jpeg")


def _listing(client, marketplace_id: str, *shades: int):
    return client.post(
        "/api/v1/listings/",
        {"marketplace_id": marketplace_id, "photos": [_jpeg(s) for s in shades]},
        format="multipart",
    )


def _recognise(client, data: bytes | None = None):
    upload = SimpleUploadedFile("car.jpg", data or images.jpeg(200, 100), "image/jpeg")
    return client.post("/api/v1/recognize/", {"upload": upload}, format="multipart")


def _redact(client):
    upload = SimpleUploadedFile("car.png", images.png(120, 80), "image/png")
    return client.post("/api/v1/redact/", {"upload": upload}, format="multipart")


def _usage(client, **params):
    response = client.get("/api/v1/usage/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_each_photo_read_counts_once_by_kind_and_day(token_client, partner, engine_control):
    client = token_client(partner)
    created = _listing(client, "U-1", 10, 20, 20)  # the same bytes twice are one photo
    assert created.status_code == 201, created.content
    assert created["Quota-Limit"] == "0"  # no limit (API_MONTHLY_PHOTOS 0)
    assert "Quota-Remaining" not in created
    listing_id = created.json()["id"]
    again = client.post(
        f"/api/v1/listings/{listing_id}/photos/",
        {"photos": [_jpeg(10), _jpeg(30)]},  # 10 is stored already
        format="multipart",
    )
    assert again.status_code == 201, again.content
    assert _recognise(client).status_code == 200
    assert _redact(client).status_code == 200

    body = _usage(client)
    today = timezone.localdate()
    assert body["month"] == today.strftime("%Y-%m")
    assert body["by_kind"] == {"photo": 3, "recognize": 1, "redact": 1}
    assert (body["used"], body["limit"], body["remaining"]) == (5, 0, None)
    assert body["days"] == [
        {"day": today.isoformat(), "photo": 3, "recognize": 1, "redact": 1, "total": 5}
    ]
    assert Photo.objects.filter(listing_id=listing_id).count() == 3


def test_over_the_quota_is_a_429_and_nothing_is_read_or_kept(token_client, partner, engine_control):
    PartnerQuota.objects.create(user=partner, photos_per_month=3)
    client = token_client(partner)
    created = _listing(client, "Q-1", 10, 20)
    assert created.status_code == 201, created.content
    assert (created["Quota-Limit"], created["Quota-Remaining"]) == ("3", "1")
    listing_id = created.json()["id"]

    too_many = client.post(
        f"/api/v1/listings/{listing_id}/photos/",
        {"photos": [_jpeg(30), _jpeg(40)]},
        format="multipart",
    )
    assert too_many.status_code == 429, too_many.content
    error = too_many.json()["errors"][0]
    assert error["code"] == "quota_exceeded"
    assert "2 photo(s) asked for, 1 of this month's 3 left" in error["detail"]
    first_of_next = usage_quota(user=partner).resets_on
    assert first_of_next.day == 1
    assert first_of_next > timezone.localdate()
    assert 0 < int(too_many["Retry-After"]) <= 31 * 24 * 3600
    assert Photo.objects.filter(listing_id=listing_id).count() == 2

    assert _recognise(client).status_code == 200  # the last one
    refused = _recognise(client)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "quota_exceeded"
    assert (engine_control / "calls").read_text().split()[1] == "1"  # the engine read one
    assert _redact(client).status_code == 429
    assert _usage(client)["by_kind"] == {"photo": 2, "recognize": 1, "redact": 0}
    assert _usage(client)["remaining"] == 0


def test_work_that_fails_gives_its_count_back(token_client, partner, engine_control):
    PartnerQuota.objects.create(user=partner, photos_per_month=5)
    client = token_client(partner)
    assert _recognise(client, data=b"GIF89a not a photo").status_code == 415
    bad = client.post(
        "/api/v1/listings/",
        {
            "marketplace_id": "B-1",
            "photos": [_jpeg(10), SimpleUploadedFile("x.jpg", b"not a jpeg", "image/jpeg")],
        },
        format="multipart",
    )
    assert 400 <= bad.status_code < 500
    (engine_control / "mode").write_text("unavailable")
    reset_engine()
    client.raise_request_exception = False
    assert _recognise(client).status_code == 503

    assert _usage(client)["used"] == 0
    assert not UsageDay.objects.filter(count__gt=0).exists()


def test_the_quota_is_the_calendar_month_s(token_client, partner, settings):
    settings.API_MONTHLY_PHOTOS = 4  # no quota of its own: the default
    today = timezone.localdate()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=3)
    UsageDay.objects.create(user=partner, day=last_month, kind=UsageKind.PHOTO, count=4)
    client = token_client(partner, scopes=["read"])

    now = _usage(client)
    assert (now["used"], now["limit"], now["remaining"]) == (0, 4, 4)
    before = _usage(client, month=last_month.strftime("%Y-%m"))
    assert (before["month"], before["used"], before["remaining"]) == (
        last_month.strftime("%Y-%m"),
        4,
        0,
    )
    assert before["resets_on"] == today.replace(day=1).isoformat()
    assert before["days"][0]["day"] == last_month.isoformat()

    bad = client.get("/api/v1/usage/", {"month": "2026-13"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "month"


def test_a_partner_sees_only_its_own_usage(token_client, partner, other_partner):
    UsageDay.objects.create(
        user=other_partner, day=timezone.localdate(), kind=UsageKind.RECOGNIZE, count=7
    )
    assert _usage(token_client(partner, scopes=["recognize"]))["used"] == 0
    assert _usage(token_client(other_partner))["used"] == 7
    assert APIClient().get("/api/v1/usage/").status_code == 401


def test_crossing_80_percent_and_the_whole_quota_tells_the_partner(partner):
    PartnerQuota.objects.create(user=partner, photos_per_month=10)
    WebhookEndpoint.objects.create(
        owner=partner, url="https://receiver.example/usage", events=["usage.quota"], secret="s"
    )
    for count in (3, 4):  # 7 of 10: nothing to tell
        usage_charge(user=partner, kind=UsageKind.PHOTO, count=count)
    assert not WebhookDelivery.objects.exists()
    usage_charge(user=partner, kind=UsageKind.RECOGNIZE, count=2)  # 9: past 80 %
    usage_charge(user=partner, kind=UsageKind.PHOTO, count=1)  # 10: all of it
    with pytest.raises(QuotaExceeded):
        usage_charge(user=partner, kind=UsageKind.PHOTO, count=1)

    told = [
        d.payload["data"]
        for d in WebhookDelivery.objects.filter(event=WebhookEvent.USAGE_QUOTA).order_by("id")
    ]
    assert [(t["share"], t["used"], t["limit"]) for t in told] == [(0.8, 9, 10), (1.0, 10, 10)]
    assert told[0]["month"] == timezone.localdate().strftime("%Y-%m")


def test_a_charge_kept_in_part_gives_the_rest_back(partner):
    PartnerQuota.objects.create(user=partner, photos_per_month=10)
    with usage_charge(user=partner, kind=UsageKind.PHOTO, count=4) as charge:
        charge.keep(1)
    assert usage_quota(user=partner).used == 1
    with pytest.raises(RuntimeError), usage_charge(user=partner, kind=UsageKind.PHOTO, count=3):
        raise RuntimeError("the store failed")
    assert usage_quota(user=partner).used == 1


def test_the_metrics_show_each_partner_s_month(partner, settings):
    from webapp.ops.metrics import exposition

    settings.API_MONTHLY_PHOTOS = 50
    usage_charge(user=partner, kind=UsageKind.PHOTO, count=6)
    text = exposition()[0].decode()
    assert 'platecheck_partner_photos_month{partner="partner"} 6.0' in text
    assert 'platecheck_partner_quota{partner="partner"} 50.0' in text


@pytest.mark.django_db(transaction=True)
def test_racing_requests_never_pass_the_quota(partner):
    if connection.vendor != "postgresql":
        pytest.skip("a race of database sessions needs PostgreSQL")
    PartnerQuota.objects.create(user=partner, photos_per_month=30)
    start = threading.Barrier(3)
    taken: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def charge_many(kind: str) -> None:
        start.wait(timeout=10)
        for _ in range(20):
            try:
                usage_charge(user=partner, kind=kind, count=1)
                taken.append(1)
            except QuotaExceeded:
                refused.append(1)

    kinds = (UsageKind.PHOTO, UsageKind.RECOGNIZE, UsageKind.REDACT)  # rows of their own
    threads = [in_thread(lambda k=k: charge_many(k), errors) for k in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert (len(taken), len(refused)) == (30, 30)
    assert usage_quota(user=partner).used == 30
