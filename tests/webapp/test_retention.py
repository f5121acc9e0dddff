"""The retention purge (webapp/ops/retention.py, `manage.py purge_expired`): real frame files in
the test's MEDIA_ROOT and the real PostgreSQL, committing as the command and the task do (a
frame's file goes once its row's deletion has committed), so these tests run without the
transaction pytest-django wraps others in. Ages are set on the database's clock."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.fixtures import images
from webapp.gates import services as gate_services
from webapp.gates.models import Decision, Device, DeviceRequest, Frame, Passage
from webapp.gates.passages import frame_store
from webapp.ops import retention
from webapp.ops.models import RetentionPurge
from webapp.ops.tasks import PURGE_EXPIRED_TASK, purge_expired
from webapp.partners.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webapp.partners.tokens import token_create
from webapp.review.models import MODERATORS_GROUP

pytestmark = pytest.mark.django_db(transaction=True)

DONE, FAILED, PENDING = Frame.Status.DONE, Frame.Status.FAILED, Frame.Status.PENDING


@pytest.fixture(autouse=True)
def _defaults(settings) -> None:
    settings.GATE_FRAME_RETENTION_DAYS = 30
    settings.GATE_REQUEST_LOG_RETENTION_DAYS = 90
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30


@pytest.fixture
def device() -> Device:
    return gate_services.device_create(gate=gate_services.gate_create(name="north")).device


@pytest.fixture
def passage(device) -> Passage:
    now = timezone.now()
    return Passage.objects.create(
        gate=device.gate, device=device, started_at=now, last_frame_at=now, frames_count=2,
        voted_plate="AA1234BB", confidence=0.93, decision=Decision.OPEN, reason="on the list",
    )  # fmt: skip


def frame(device: Device, name: str, *, days: float, status=DONE, passage=None) -> Frame:
    """A stored frame (row and file) received `days` ago by the database's clock."""
    stored, created = frame_store(
        device=device, body=images.jpeg(), width=80, height=60, client_frame_id=name,
        captured_at=timezone.now(), queued=False,
    )  # fmt: skip
    assert created
    Frame.objects.filter(pk=stored.pk).update(
        received_at=Now() - timedelta(days=days), status=status, passage=passage
    )
    return stored


def path(settings, stored: Frame) -> Path:
    return Path(settings.MEDIA_ROOT) / stored.image.name


def request_log(device: Device, *, days: float, frame: Frame | None = None) -> DeviceRequest:
    row = DeviceRequest.objects.create(
        device=device, claimed_device_id=device.device_id, method="POST",
        path="/api/v1/gates/frames/", accepted=True, code="accepted", frame=frame,
    )  # fmt: skip
    DeviceRequest.objects.filter(pk=row.pk).update(created_at=Now() - timedelta(days=days))
    return row


@pytest.fixture
def endpoint(partner) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        owner=partner, url="https://hooks.example.test/in", events=["flag.decided"], secret="s"
    )


def delivery(endpoint, name: str, *, days: float, status: str, attempts: int = 0, **fields):
    row = WebhookDelivery.objects.create(
        endpoint=endpoint, event="flag.decided", message_id=name, payload={"n": name},
        status=status, attempts=attempts, **fields,
    )  # fmt: skip
    WebhookDelivery.objects.filter(pk=row.pk).update(created_at=Now() - timedelta(days=days))
    for number in range(1, attempts + 1):
        WebhookAttempt.objects.create(delivery=row, number=number, status_code=500)
    return row


def by_kind(purged: list[retention.Purged]) -> dict[str, retention.Purged]:
    return {p.kind: p for p in purged}


def test_old_frames_go_with_their_files_while_recent_and_pending_ones_stay(
    settings, device, passage
):
    # given frames of 40 days (read, failed, still pending) and one of 5 days, all of a passage
    old = [frame(device, f"old-{s}", days=40, status=s, passage=passage) for s in (DONE, FAILED)]
    pending = frame(device, "old-pending", days=40, status=PENDING)
    recent = frame(device, "recent", days=5, passage=passage)
    audit = request_log(device, days=40, frame=old[0])
    # when
    purged = by_kind(retention.retention_purge())[retention.FRAMES]
    # then the old read ones are gone, rows and files
    assert not Frame.objects.filter(pk__in=[f.pk for f in old]).exists()
    assert not any(path(settings, f).exists() for f in old)
    assert set(Frame.objects.values_list("pk", flat=True)) == {pending.pk, recent.pk}
    assert path(settings, pending).is_file()
    assert path(settings, recent).is_file()
    assert (purged.deleted, purged.files_deleted, purged.kept) == (2, 2, 1)
    # and the passage (the decision record) stays as it was; the audit row loses its frame only
    kept = Passage.objects.get(pk=passage.pk)
    assert (kept.voted_plate, kept.decision, kept.frames_count) == ("AA1234BB", "open", 2)
    assert DeviceRequest.objects.get(pk=audit.pk).frame_id is None
    record = RetentionPurge.objects.get(kind=retention.FRAMES)
    assert (record.deleted, record.files_deleted, record.retention_days) == (2, 2, 30)
    assert record.finished_at is not None


def test_a_passage_whose_frames_were_purged_still_shows_on_every_page(
    settings, client, moderator, device, passage
):
    # given a passage whose only frames were purged
    old = frame(device, "old", days=40, passage=passage)
    retention.retention_purge()
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    client.force_login(moderator)
    # when / then: the live passages page shows it, saying why there is no image
    page = client.get("/gates/")
    assert page.status_code == 200
    assert "AA1234BB" in page.content.decode()
    [row] = page.context["rows"]
    assert row["frame"] is None
    assert row["images_gone"] == "Images purged after 30 days"
    assert "Images purged after 30 days" in page.content.decode()
    # the purged frame's image is not found (not a server error)
    assert client.get(f"/gates/frames/{old.pk}.jpg").status_code == 404
    # and the plate's history lists the passage
    history = client.get(reverse("review:plate_history", args=["AA1234BB"]))
    assert history.status_code == 200
    assert [p.pk for p in history.context["h"].passages] == [passage.pk]
    assert f'id="passage-{passage.pk}"' in history.content.decode()


def test_a_frame_image_whose_file_is_lost_is_not_found(settings, client, moderator, device):
    stored = frame(device, "lost", days=1)
    path(settings, stored).unlink()
    client.force_login(moderator)
    assert client.get(f"/gates/frames/{stored.pk}.jpg").status_code == 404


def test_old_gate_request_logs_go_and_recent_ones_stay(device):
    old = [request_log(device, days=91) for _ in range(3)]
    recent = request_log(device, days=89)
    purged = by_kind(retention.retention_purge())[retention.REQUESTS]
    assert list(DeviceRequest.objects.values_list("pk", flat=True)) == [recent.pk]
    assert purged.deleted == len(old)


def test_finished_old_deliveries_go_with_their_attempts_and_unfinished_ones_stay(endpoint, partner):
    # given finished deliveries of 40 days, unfinished ones as old, and a finished recent one
    gone = [
        delivery(endpoint, "delivered-old", days=40, status="delivered", attempts=2),
        delivery(endpoint, "failed-old", days=40, status="failed", attempts=1),
    ]
    future = timezone.now() + timedelta(hours=1)
    kept = [
        delivery(endpoint, "waiting-old", days=40, status="pending"),
        delivery(
            endpoint, "retrying-old", days=40, status="pending", attempts=3, next_attempt_at=future
        ),
        delivery(
            endpoint, "leased-old", days=40, status="pending", attempts=1, lease_expires_at=future
        ),
        delivery(endpoint, "delivered-recent", days=5, status="delivered", attempts=1),
    ]
    # when
    purged = by_kind(retention.retention_purge())[retention.DELIVERIES]
    # then
    assert set(WebhookDelivery.objects.values_list("message_id", flat=True)) == {
        d.message_id for d in kept
    }
    assert not WebhookAttempt.objects.filter(delivery_id__in=[d.pk for d in gone]).exists()
    assert WebhookAttempt.objects.count() == 5  # the kept deliveries' attempts
    assert (purged.deleted, purged.attempts_deleted, purged.kept) == (2, 3, 3)
    # and the partner API no longer lists them
    client = APIClient()
    key = token_create(user=partner, name="t", scopes=["webhooks"]).key
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    listed = client.get("/api/v1/webhooks/deliveries/").json()["results"]
    assert {d["message_id"] for d in listed} == {d.message_id for d in kept}


def test_dry_run_counts_and_deletes_nothing(settings, device, endpoint):
    old = [frame(device, f"old-{i}", days=40) for i in range(2)]
    request_log(device, days=100)
    delivery(endpoint, "delivered-old", days=40, status="delivered", attempts=1)
    delivery(endpoint, "waiting-old", days=40, status="pending")
    out = StringIO()
    # when
    call_command("purge_expired", "--dry-run", "--no-progress", stdout=out)
    # then
    text = out.getvalue()
    assert "gate frames older than 30 days (before " in text
    assert "): 2 would be deleted" in text
    assert "gate request logs older than 90 days" in text
    assert "finished webhook deliveries older than 30 days" in text
    assert "1 would be deleted; 1 as old kept, not delivered nor given up yet" in text
    assert "dry run: nothing was deleted" in text
    assert Frame.objects.count() == 2
    assert all(path(settings, f).is_file() for f in old)
    assert DeviceRequest.objects.count() == 1
    assert WebhookDelivery.objects.count() == 2
    assert not RetentionPurge.objects.exists()


def test_the_command_deletes_and_prints_what_it_deleted(settings, device, endpoint):
    old = frame(device, "old", days=40)
    request_log(device, days=100)
    delivery(endpoint, "failed-old", days=40, status="failed", attempts=2)
    out = StringIO()
    call_command("purge_expired", "--no-progress", stdout=out)
    text = out.getvalue()
    assert "1 deleted, 1 files deleted, 0 already gone, 0 could not be deleted" in text
    assert "gate request logs older than 90 days" in text
    assert "1 deleted with 2 attempts" in text
    assert not path(settings, old).exists()
    assert (Frame.objects.count(), DeviceRequest.objects.count()) == (0, 0)
    assert WebhookDelivery.objects.count() == 0


def test_a_missing_or_undeletable_file_does_not_stop_the_purge(settings, device, caplog):
    # given three old frames: one's file already gone, one's name now a folder (unlink fails,
    # even for root), one as it should be
    missing, stuck, fine = (frame(device, name, days=40) for name in ("missing", "stuck", "fine"))
    path(settings, missing).unlink()
    path(settings, stuck).unlink()
    path(settings, stuck).mkdir()
    caplog.set_level(logging.INFO, logger="webapp.ops.retention")
    # when
    purged = by_kind(retention.retention_purge())[retention.FRAMES]
    # then every row went, and each file's fate is counted and logged
    assert not Frame.objects.exists()
    assert not path(settings, fine).exists()
    assert (purged.deleted, purged.files_deleted, purged.files_missing, purged.files_failed) == (
        3, 1, 1, 1,
    )  # fmt: skip
    assert f"{missing.image.name} was already gone" in caplog.text
    assert f"could not delete {stuck.image.name}" in caplog.text
    assert RetentionPurge.objects.get(kind=retention.FRAMES).files_failed == 1


def test_retention_zero_keeps_everything(settings, device, endpoint):
    settings.GATE_FRAME_RETENTION_DAYS = 0
    settings.GATE_REQUEST_LOG_RETENTION_DAYS = 0
    settings.WEBHOOK_LOG_RETENTION_DAYS = 0
    old = frame(device, "ancient", days=3000)
    request_log(device, days=3000)
    delivery(endpoint, "ancient", days=3000, status="delivered", attempts=1)
    out = StringIO()
    call_command("purge_expired", "--no-progress", stdout=out)
    assert (Frame.objects.count(), DeviceRequest.objects.count()) == (1, 1)
    assert (WebhookDelivery.objects.count(), WebhookAttempt.objects.count()) == (1, 1)
    assert path(settings, old).is_file()
    assert "gate frames: kept for ever (GATE_FRAME_RETENTION_DAYS=0)" in out.getvalue()
    assert not RetentionPurge.objects.exists()


def test_a_frame_retention_shorter_than_the_offline_queue_is_refused(settings, device):
    # A frame sent from a gate's offline queue up to 7 days late is voted with its passage's
    # stored frames: purged earlier, the passage's vote and frames_count would be redone short.
    settings.GATE_FRAME_RETENTION_DAYS = 3
    request_log(device, days=100)
    with pytest.raises(CommandError, match="at least 8 days"):
        call_command("purge_expired", "--no-progress")
    assert DeviceRequest.objects.count() == 1


def test_the_cut_off_is_the_databases_clock_not_the_workers(monkeypatch, device):
    # given a worker whose clock runs 60 days ahead, and a frame received 10 days ago
    real_now = timezone.now
    young = frame(device, "young", days=10)
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=60))
    # when
    retention.retention_purge()
    # then
    assert Frame.objects.filter(pk=young.pk).exists()


def test_rows_go_in_batches_each_committed(monkeypatch, device):
    monkeypatch.setattr(retention, "BATCH", 2)
    for _ in range(5):
        request_log(device, days=100)
    batches: list[int] = []
    retention.retention_purge(on_batch=batches.append)
    assert batches == [2, 2, 1]
    assert not DeviceRequest.objects.exists()
    assert RetentionPurge.objects.get(kind=retention.REQUESTS).deleted == 5


@pytest.mark.parametrize(
    ("model", "column", "index"),
    [
        (Frame, "received_at", "ops_frame_received_idx"),
        (WebhookDelivery, "created_at", "ops_delivery_created_idx"),
    ],
)
def test_the_purges_lookup_uses_an_index(model, column, index):
    # As the media sweep's test: with plain and sequential scans off, only an index on the
    # time column can serve the range.
    with transaction.atomic(), connection.cursor() as cursor:
        for switch in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{switch} = off")
        plan = model.objects.filter(**{f"{column}__lt": timezone.now()}).explain()
    assert index in plan


def test_the_metrics_count_what_the_purge_deleted(settings, client, moderator, device):
    settings.METRICS_ALLOWED_ADDRESSES = []
    for name in ("a", "b"):
        frame(device, name, days=40)
    request_log(device, days=100)
    retention.retention_purge()
    client.force_login(moderator)
    text = client.get("/metrics").content.decode()
    assert 'platecheck_retention_deleted_total{kind="gate_frames"} 2.0' in text
    assert 'platecheck_retention_deleted_total{kind="gate_requests"} 1.0' in text
    assert 'platecheck_retention_files_deleted_total{kind="gate_frames"} 2.0' in text
    assert 'platecheck_retention_last_finished_timestamp_seconds{kind="gate_frames"}' in text
    assert 'platecheck_metrics_errors{part="retention"} 0.0' in text


def test_the_beat_schedule_runs_the_purge_daily(settings):
    from webapp.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired"]
    assert entry["task"] == PURGE_EXPIRED_TASK == purge_expired.name
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert (len(schedule.hour), len(schedule.minute)) == (1, 1)
    assert (len(schedule.day_of_week), len(schedule.day_of_month)) == (7, 31)


def test_the_beat_task_purges_with_the_settings(settings, device):
    settings.GATE_REQUEST_LOG_RETENTION_DAYS = 10
    request_log(device, days=11)
    kept = request_log(device, days=9)
    assert purge_expired.apply().get() == 1
    assert list(DeviceRequest.objects.values_list("pk", flat=True)) == [kept.pk]


def test_listing_photos_are_never_purged(settings):
    from tests.fixtures.factories import PhotoFactory
    from webapp.listings.models import Photo

    photo = PhotoFactory()
    Photo.objects.filter(pk=photo.pk).update(created_at=Now() - timedelta(days=3000))
    retention.retention_purge()
    assert Photo.objects.filter(pk=photo.pk).exists()
    assert os.path.isfile(Path(settings.MEDIA_ROOT) / photo.image.name)
