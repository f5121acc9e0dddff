"""The orphaned-media sweep (webapp/ops/media.py): real files in the test's MEDIA_ROOT, the real
PostgreSQL, and orphans made the ways production makes them (an upload whose outer transaction
rolls back after the upload code returned, as the admin's form does)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.fixtures import images
from tests.fixtures.factories import ListingFactory, PhotoFactory
from webapp.gates import services as gate_services
from webapp.gates.models import Device, Frame
from webapp.gates.passages import frame_store
from webapp.listings import services as listing_services
from webapp.listings.models import Photo
from webapp.ops import media
from webapp.ops.models import MediaSweep
from webapp.ops.tasks import MEDIA_ORPHANS_SWEEP_TASK, media_orphans_sweep

pytestmark = pytest.mark.django_db

SIX_HOURS = timedelta(hours=6)


class RolledBack(Exception):
    """Raised to roll back the transaction around an upload that had already returned."""


def aged(path: Path, hours: float) -> Path:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def stored(settings, name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def photo_orphan(settings, *, colour: tuple[int, int, int] = (10, 200, 30)) -> Path:
    """The admin's case: photo_add returned, then the transaction around it rolled back."""
    listing = ListingFactory()
    with contextlib.suppress(RolledBack), transaction.atomic():
        added = listing_services.photo_add(
            listing=listing, upload=io.BytesIO(images.jpeg(colour=colour))
        )
        raise RolledBack
    assert not Photo.objects.filter(pk=added.photo.pk).exists()
    path = stored(settings, added.photo.image.name)
    assert path.is_file()
    return path


def kept_photo(settings, *, hours: float) -> Path:
    return aged(stored(settings, PhotoFactory().image.name), hours)


@pytest.fixture
def device() -> Device:
    return gate_services.device_create(gate=gate_services.gate_create(name="north")).device


def store_frame(device: Device, client_frame_id: str) -> Frame:
    frame, created = frame_store(
        device=device,
        body=images.jpeg(),
        width=80,
        height=60,
        client_frame_id=client_frame_id,
        captured_at=timezone.now(),
        queued=False,
    )
    assert created
    return frame


def test_a_referenced_photo_is_kept_however_old(settings):
    # given a photo with its row, its file a year old, beside an old orphan
    kept = kept_photo(settings, hours=24 * 365)
    orphan = aged(photo_orphan(settings), 7)
    # when
    swept = media.media_orphans_sweep(older_than=SIX_HOURS)
    # then
    assert kept.is_file()
    assert not orphan.exists()
    photos = swept[0]
    assert (photos.folder, photos.files, photos.referenced, photos.deleted) == ("photos", 2, 1, 1)


def test_an_orphan_younger_than_the_grace_age_is_kept(settings):
    # given an upload rolled back five hours ago: its row may be on its way, for all we know
    kept_photo(settings, hours=100)
    orphan = aged(photo_orphan(settings), 5)
    # when
    swept = media.media_orphans_sweep(older_than=SIX_HOURS)
    # then
    assert orphan.is_file()
    assert (swept[0].young, swept[0].orphans, swept[0].deleted) == (1, 0, 0)


def test_an_old_orphan_is_deleted_logged_and_recorded(settings, caplog):
    # given an upload rolled back seven hours ago
    kept_photo(settings, hours=100)
    orphan = aged(photo_orphan(settings), 7)
    size = orphan.stat().st_size
    name = orphan.relative_to(settings.MEDIA_ROOT).as_posix()
    caplog.set_level(logging.INFO, logger="webapp.ops.media")
    # when
    media.media_orphans_sweep(older_than=SIX_HOURS)
    # then the file is gone, the log says which and how much, and the sweep's row counts it
    assert not orphan.exists()
    assert f"deleted {name} ({size} bytes" in caplog.text
    assert f"1 deleted ({size} bytes), 0 failed" in caplog.text
    record = MediaSweep.objects.get(folder="photos")
    assert (record.files, record.referenced, record.deleted, record.deleted_bytes) == (
        2, 1, 1, size
    )  # fmt: skip
    assert record.finished_at is not None


def test_the_metrics_count_what_the_sweeps_deleted(settings, client, moderator):
    # given two sweeps, a day apart, that deleted one orphan each
    settings.METRICS_ALLOWED_ADDRESSES = []
    kept_photo(settings, hours=100)
    sizes = []
    for colour in ((1, 2, 3), (200, 100, 50)):
        orphan = aged(photo_orphan(settings, colour=colour), 30)
        sizes.append(orphan.stat().st_size)
        media.media_orphans_sweep(older_than=SIX_HOURS)
    client.force_login(moderator)
    # when
    text = client.get("/metrics").content.decode()
    # then
    assert 'platecheck_media_orphans_deleted_total{folder="photos"} 2.0' in text
    assert f'platecheck_media_orphans_deleted_bytes_total{{folder="photos"}} {sum(sizes)}.0' in text
    assert 'platecheck_media_orphans_deleted_total{folder="gates"} 0.0' in text
    assert 'platecheck_media_sweep_last_finished_timestamp_seconds{folder="photos"}' in text
    assert 'platecheck_metrics_errors{part="media"} 0.0' in text


def test_dry_run_lists_the_orphans_and_deletes_nothing(settings):
    # given
    kept = kept_photo(settings, hours=100)
    orphan = aged(photo_orphan(settings), 7)
    name = orphan.relative_to(settings.MEDIA_ROOT).as_posix()
    out = StringIO()
    # when
    call_command("media_orphans", "--dry-run", "--no-progress", stdout=out)
    # then
    assert orphan.is_file()
    assert kept.is_file()
    assert f"would delete {name} (" in out.getvalue()
    assert "photos/: 2 files, 0 younger than 6 h, 1 with a row, 1 without" in out.getvalue()
    assert "dry run: nothing was deleted" in out.getvalue()
    assert not MediaSweep.objects.exists()


def test_the_command_deletes_what_is_older_than_asked_and_prints_it(settings):
    # given orphans of 7 and 30 hours, and a photo with its row
    kept = kept_photo(settings, hours=100)
    recent = aged(photo_orphan(settings, colour=(1, 1, 1)), 7)
    old = aged(photo_orphan(settings, colour=(250, 250, 250)), 30)
    out = StringIO()
    # when
    call_command("media_orphans", "--older-than", "24", stdout=out)
    # then
    assert kept.is_file()
    assert recent.is_file()
    assert not old.exists()
    assert f"deleted {old.relative_to(settings.MEDIA_ROOT).as_posix()} (" in out.getvalue()
    assert recent.relative_to(settings.MEDIA_ROOT).as_posix() not in out.getvalue()
    assert "3 files, 1 younger than 24 h, 1 with a row, 1 without: 1 deleted" in out.getvalue()


def test_a_grace_age_under_an_hour_is_refused_unless_dry(settings):
    kept_photo(settings, hours=100)
    orphan = aged(photo_orphan(settings), 0.5)
    with pytest.raises(CommandError, match="at least 1 h"):
        call_command("media_orphans", "--older-than", "0.2", "--no-progress")
    assert orphan.is_file()
    out = StringIO()
    call_command("media_orphans", "--older-than", "0.2", "--dry-run", "--no-progress", stdout=out)
    assert "would delete photos/" in out.getvalue()


def test_gate_frames_without_a_row_are_deleted_and_stored_ones_kept(settings, device):
    # given a stored frame, and a frame whose row's transaction failed after its file was written
    kept = aged(stored(settings, store_frame(device, "kept-1").image.name), 48)
    with contextlib.suppress(RolledBack), transaction.atomic():
        lost = store_frame(device, "lost-1")
        raise RolledBack
    orphan = aged(stored(settings, lost.image.name), 48)
    assert orphan.is_file()
    # when
    swept = {folder.folder: folder for folder in media.media_orphans_sweep(older_than=SIX_HOURS)}
    # then
    assert kept.is_file()
    assert not orphan.exists()
    assert (swept["gates"].files, swept["gates"].referenced, swept["gates"].deleted) == (2, 1, 1)
    assert MediaSweep.objects.get(folder="gates").deleted == 1


def test_a_folder_whose_table_is_empty_is_not_swept(settings):
    # given old files under photos/ and no photo row at all (a database that is not this
    # folder's): every file would look orphaned
    orphan = aged(photo_orphan(settings), 100)
    # when
    swept = media.media_orphans_sweep(older_than=SIX_HOURS)
    # then
    assert orphan.is_file()
    assert "no photo row at all" in swept[0].refused


def test_files_are_compared_with_the_rows_in_batches(settings, monkeypatch):
    # given 2 photos with rows and 5 orphans, compared 3 names at a time
    monkeypatch.setattr(media, "BATCH", 3)
    kept = [kept_photo(settings, hours=50) for _ in range(2)]
    orphans = [aged(photo_orphan(settings, colour=(i, i, i)), 50) for i in range(5)]
    # when
    with CaptureQueriesContext(connection) as queries:
        swept = media.media_orphans_sweep(older_than=SIX_HOURS)
    # then: 7 files, 3 queries of at most 3 names
    assert all(path.is_file() for path in kept)
    assert not any(path.exists() for path in orphans)
    lookups = [q["sql"] for q in queries if 'FROM "listings_photo" WHERE' in q["sql"]]
    assert len(lookups) == 3, lookups
    assert (swept[0].referenced, swept[0].deleted) == (2, 5)


@pytest.mark.parametrize(
    ("model", "index"), [(Photo, "ops_photo_image_idx"), (Frame, "ops_frame_image_idx")]
)
def test_the_sweeps_lookup_uses_an_index(model, index):
    # A few names: on the test's empty table, a thousand probes would cost the planner more
    # than reading every row, which a production table makes the other way round. Plain scans
    # of any index are off too: on an empty table the primary key's full scan with a filter
    # ties with the probe, so the planner's pick between them says nothing. What is left is a
    # bitmap scan, which only an index on the file column can serve.
    names = [f"photos/ab/{i:064d}.jpg" for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
    plan = model.objects.filter(image__in=names).values_list("image", flat=True).explain()
    assert index in plan


def test_every_file_field_is_under_a_swept_folder():
    # A new FileField must be added to UPLOAD_FOLDERS, or its files would never be swept.
    fields = {
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }
    assert fields == {(u.model, u.field) for u in media.UPLOAD_FOLDERS}
    # and each upload_to writes under its folder
    photo = Photo(sha256="ab" * 32)
    frame = Frame(device_id=7)
    assert Photo._meta.get_field("image").generate_filename(photo, "x.jpg").startswith("photos/")
    assert Frame._meta.get_field("image").generate_filename(frame, "x.jpg").startswith("gates/")


def test_the_beat_schedule_runs_the_sweep_daily(settings):
    from webapp.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["media-orphans-sweep"]
    assert entry["task"] == MEDIA_ORPHANS_SWEEP_TASK == media_orphans_sweep.name
    # a worker finds the task by that name (autodiscovery of webapp.ops.tasks)
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1
    assert len(schedule.minute) == 1
    assert len(schedule.day_of_week) == 7
    assert len(schedule.day_of_month) == 31


def test_the_beat_task_sweeps_with_the_configured_grace_age(settings):
    # given a grace age of 10 h, an orphan of 8 h and one of 12 h
    settings.MEDIA_ORPHANS_GRACE_HOURS = 10
    kept_photo(settings, hours=100)
    young = aged(photo_orphan(settings, colour=(1, 1, 1)), 8)
    old = aged(photo_orphan(settings, colour=(250, 250, 250)), 12)
    # when beat's message runs
    deleted = media_orphans_sweep.apply().get()
    # then
    assert deleted == 1
    assert young.is_file()
    assert not old.exists()
