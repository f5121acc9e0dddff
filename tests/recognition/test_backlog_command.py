"""`manage.py recognize_backlog`: limits, resumability, progress, and the operator's page."""

from __future__ import annotations

import re
from io import StringIO

import pytest
import redis
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from recognition import tasks
from recognition.management.commands import recognize_backlog
from recognition.models import BacklogRun
from tests.fixtures.factories import PhotoFactory
from tests.fixtures.worker import TEST_BROKER_URL, drop_broker_connections, take_messages
from webapp.celery import app as celery_app
from webapp.listings.models import Photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    """Messages go to the test Redis database and stay there (no worker)."""
    client = redis.Redis.from_url(TEST_BROKER_URL)
    client.flushdb()
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=TEST_BROKER_URL, task_always_eager=False)
    drop_broker_connections()
    yield client
    celery_app.conf.update(**saved)
    drop_broker_connections()
    client.flushdb()


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("recognize_backlog", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_the_backlog_queues_gpu_sized_messages_and_a_rerun_queues_nothing_twice(queue, settings):
    settings.RECOGNITION_BATCH = 4
    old = [PhotoFactory(status=Photo.Status.DONE, model_version="v0") for _ in range(10)]
    assert "6 of 6 photos queued" in run_command("--model-version", "v1", "--limit", "6")
    assert queue.llen("backlog") == 2  # 4 + 2
    # killed or not, a second run takes only what the first did not queue
    assert "4 of 4 photos queued" in run_command("--model-version", "v1")
    assert queue.llen("backlog") == 3
    assert "0 of 0 photos queued" in run_command("--model-version", "v1")
    assert Photo.objects.filter(pk__in=[p.pk for p in old], queued_at__isnull=False).count() == 10
    assert queue.llen("recognition") == 0  # uploads' queue untouched


def test_the_backlog_refuses_a_bad_limit_and_a_missing_engine(engine_control):
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        run_command("--limit", "0")
    (engine_control / "mode").write_text("unavailable")
    with pytest.raises(CommandError, match="pass --model-version"):
        run_command()


@pytest.mark.django_db(transaction=True)
def test_follow_shows_the_run_through_to_the_end(engine_control, settings):
    # eager mode (no broker): each message is read as it is sent, so --follow ends at once
    PhotoFactory.create_batch(3, status=Photo.Status.DONE, model_version="double-0")
    out = run_command("--follow")
    assert "3 of 3 photos queued" in out
    assert "3 read, 0 failed" in out
    assert BacklogRun.objects.get().status == BacklogRun.Status.DONE


def test_follow_ends_when_a_photo_of_the_run_is_deleted_and_counts_only_the_runs_photos(
    queue, engine_control, monkeypatch
):
    old = PhotoFactory.create_batch(3, status=Photo.Status.DONE, model_version="double-0")
    polls = 0

    def meanwhile(seconds: float) -> None:
        nonlocal polls
        polls += 1
        assert polls == 1, "--follow did not end"
        old[0].listing.delete()  # its owner deletes a listing while the backlog runs
        fresh = PhotoFactory()  # and a fresh upload is read beside it
        tasks.recognize_photo.apply(args=[fresh.pk])
        for message in take_messages(queue, "backlog"):  # the worker takes the run's message
            tasks.recognize_photos.apply(args=[message])

    monkeypatch.setattr(recognize_backlog.time, "sleep", meanwhile)
    out = run_command("--follow")
    assert "3 of 3 photos queued" in out
    assert "2 read, 0 failed" in out
    assert BacklogRun.objects.get().status == BacklogRun.Status.DONE


def test_the_operator_page_shows_count_rate_and_eta(client, moderator):
    moderator.is_superuser = True
    moderator.save()
    client.force_login(moderator)
    run = BacklogRun.objects.create(model_version="v1", total=4, enqueued=4)
    read = PhotoFactory.create_batch(
        3, status=Photo.Status.DONE, model_version="v1", processed_at=timezone.now()
    )
    run.photos.add(*read, PhotoFactory(status=Photo.Status.DONE, model_version="v0"))
    PhotoFactory(status=Photo.Status.DONE, model_version="v1", processed_at=timezone.now())
    page = client.get(reverse("admin:recognition_backlogrun_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    for column in ("Photos/s", "ETA", "Remaining", "Read"):
        assert column in text
    row = text[text.index(f"/admin/recognition/backlogrun/{run.pk}/change/") :]
    cells = re.findall(r'<td class="field-(\w+)[^"]*">([^<]*)</td>', row)
    values = dict(cells)
    assert values["read"] == "3"
    assert values["remaining"] == "1"
    assert float(values["rate"]) > 0
    assert values["eta"] != "-"
    # the run's page shows its fields, not a form listing every photo it sent
    detail = client.get(reverse("admin:recognition_backlogrun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert 'name="photos"' not in detail.content.decode()
