"""Exactly-once reading: leases, one message per photo, and the cross-check outbox."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connections
from django.utils import timezone

from recognition import dispatch, selectors, services, tasks
from recognition.models import CrosscheckRequest, Reading
from tests.fixtures.factories import PhotoFactory, jpeg_bytes
from tests.fixtures.worker import drop_broker_connections, take_messages
from webapp.celery import app as celery_app
from webapp.checks import services as check_services
from webapp.listings.models import Photo

pytestmark = pytest.mark.django_db

VERSION = "double-1"


def refreshed(photo: Photo) -> Photo:
    photo.refresh_from_db()
    return photo


def leased(**fields: object) -> Photo:
    values: dict[str, object] = {
        "status": Photo.Status.PROCESSING,
        "attempts": 1,
        "lease_expires_at": timezone.now() + timedelta(minutes=5),
        "leased_by": "gpu1:42",
    }
    return PhotoFactory(**{**values, **fields})


def test_a_redelivered_message_for_a_live_lease_is_dropped(engine_control: Path):
    photo = leased()
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.PROCESSING
    assert photo.attempts == 1  # a duplicate message is not an attempt: no false poison
    assert photo.leased_by == "gpu1:42"
    assert not (engine_control / "calls").exists()


def test_an_expired_lease_is_claimed_again_and_read_once(engine_control: Path):
    photo = leased(lease_expires_at=timezone.now() - timedelta(seconds=1))
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.DONE
    assert photo.attempts == 2
    assert photo.lease_expires_at is None
    assert Reading.objects.filter(photo=photo, model_version=VERSION).count() == 1


def test_a_claim_takes_a_lease_and_clears_the_queued_mark(settings):
    settings.RECOGNITION_LEASE_SECONDS = 90
    photo = PhotoFactory(queued_at=timezone.now())
    claims = services.photos_claim(photo_ids=[photo.pk], engine_version=VERSION, worker="w:1")
    assert [c.photo_id for c in claims] == [photo.pk]
    assert refreshed(photo).queued_at is None
    left = (photo.lease_expires_at - timezone.now()).total_seconds()
    assert 80 < left <= 90
    # a second claim while the lease is live gets nothing
    assert services.photos_claim(photo_ids=[photo.pk], engine_version=VERSION, worker="w:2") == []


def test_a_late_store_after_someone_else_finished_keeps_one_reading_set(engine_control: Path):
    photo = PhotoFactory()
    claim = services.photo_claim(photo_id=photo.pk, engine_version=VERSION)
    tasks.recognize_photo.delay(photo.pk)  # lease live: dropped
    assert refreshed(photo).status == Photo.Status.PROCESSING
    Photo.objects.filter(pk=photo.pk).update(lease_expires_at=timezone.now())
    tasks.recognize_photo.delay(photo.pk)  # lease expired: read by "another worker"
    from tests.fixtures.engine_double import DoubleEngine

    result = DoubleEngine().recognize_batch([services.photo_image_load(photo_id=photo.pk)])[0]
    stored = services.photos_readings_store(engine_version=VERSION, results=[(claim, result)])
    assert stored == []
    assert Reading.objects.filter(photo=photo, model_version=VERSION).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_photos_at_once_split_them():
    photos = [PhotoFactory() for _ in range(20)]
    ids = [p.pk for p in photos]
    got: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def claim(name: str) -> None:
        barrier.wait()
        try:
            for photo_id in ids:
                found = services.photos_claim(
                    photo_ids=[photo_id], engine_version=VERSION, worker=name
                )
                got.setdefault(name, []).extend(c.photo_id for c in found)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = got.get("a", []) + got.get("b", [])
    assert sorted(claimed) == ids  # every photo claimed once, none twice
    assert Photo.objects.filter(pk__in=ids, attempts=1).count() == 20


def test_a_queued_or_leased_photo_is_never_marked_for_a_second_message():
    queued = PhotoFactory(queued_at=timezone.now())
    busy = leased()
    free = PhotoFactory()
    marked = services.photos_mark_queued(photo_ids=[queued.pk, busy.pk, free.pk])
    assert marked == [free.pk]
    assert services.photos_mark_queued(photo_ids=[free.pk]) == []


def test_the_backlog_skips_pending_queued_and_leased_photos():
    old = PhotoFactory(status=Photo.Status.DONE, model_version="double-0")
    PhotoFactory(status=Photo.Status.DONE, model_version="double-0", queued_at=timezone.now())
    leased(model_version="double-0")
    PhotoFactory(status=Photo.Status.PENDING)
    PhotoFactory(status=Photo.Status.DONE, model_version=VERSION)
    assert selectors.photo_ids_backlog(engine_version=VERSION) == [old.pk]


@pytest.fixture
def redis_broker(settings):
    """This process's Celery app on the test Redis database (no worker): messages stay queued."""
    from tests.fixtures.worker import TEST_BROKER_URL

    client = redis.Redis.from_url(TEST_BROKER_URL)
    client.flushdb()
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=TEST_BROKER_URL, task_always_eager=False)
    drop_broker_connections()
    yield client
    celery_app.conf.update(**saved)
    drop_broker_connections()
    client.flushdb()


def test_the_requeue_never_resends_a_photo_whose_message_is_still_queued(redis_broker, settings):
    settings.RECOGNITION_QUEUE_LOST_SECONDS = 0
    settings.RECOGNITION_UNSENT_GRACE_SECONDS = 0
    photos = [PhotoFactory(status=Photo.Status.DONE, model_version="double-0") for _ in range(5)]
    run = dispatch.backlog_enqueue(engine_version=VERSION)
    assert run.enqueued == 5
    assert redis_broker.llen("backlog") == 1  # one message of up to RECOGNITION_BATCH photos
    # a long backlog: the messages are old but still queued, so nothing is sent again
    for _ in range(3):
        assert tasks.requeue_stale_photos.apply().get() == 0
        assert dispatch.backlog_enqueue(engine_version=VERSION).enqueued == 0
    assert redis_broker.llen("backlog") == 1
    assert redis_broker.llen("recognition") == 0
    # the broker lost its queue (a restart without persistence): now they are resent
    redis_broker.delete("backlog")
    assert tasks.requeue_stale_photos.apply().get() == len(photos)
    assert redis_broker.llen("recognition") == 1


def test_the_requeue_resends_expired_leases_and_unsent_uploads_once(redis_broker, settings):
    settings.RECOGNITION_UNSENT_GRACE_SECONDS = 0
    dead = leased(lease_expires_at=timezone.now() - timedelta(seconds=1))
    unsent = PhotoFactory(status=Photo.Status.PENDING)
    live = leased()
    assert tasks.requeue_stale_photos.apply().get() == 2
    assert tasks.requeue_stale_photos.apply().get() == 0
    assert refreshed(dead).queued_at is not None
    assert refreshed(unsent).queued_at is not None
    assert refreshed(live).queued_at is None


@pytest.fixture
def dead_broker():
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(
        broker_url="redis://127.0.0.1:1/0",
        task_always_eager=False,
        broker_connection_retry=False,
        broker_connection_max_retries=0,
    )
    drop_broker_connections()
    yield
    celery_app.conf.update(**saved)
    drop_broker_connections()


def test_a_broker_down_when_readings_are_stored_leaves_the_cross_check_due(
    engine_control: Path, dead_broker
):
    photo = PhotoFactory()
    claim = services.photo_claim(photo_id=photo.pk, engine_version=VERSION)
    from tests.fixtures.engine_double import DoubleEngine

    result = DoubleEngine().recognize_batch([services.photo_image_load(photo_id=photo.pk)])[0]
    listing_ids = services.photos_readings_store(engine_version=VERSION, results=[(claim, result)])
    assert dispatch.crosscheck_send(listing_ids=listing_ids) == 0
    request = CrosscheckRequest.objects.get(listing_id=photo.listing_id)
    assert request.is_due
    assert request.sent_at is None
    assert selectors.crosscheck_listing_ids_due(sent_before=timezone.now()) == [photo.listing_id]


def test_the_sweeper_sends_due_cross_checks_and_they_end_checked(engine_control: Path):
    photo = PhotoFactory()
    services.crosscheck_requests_create(listing_ids=[photo.listing_id])
    assert tasks.crosscheck_sweep.apply().get() == 1  # eager: sent and run here
    request = CrosscheckRequest.objects.get(listing_id=photo.listing_id)
    assert not request.is_due
    assert tasks.crosscheck_sweep.apply().get() == 0


def test_a_cross_check_that_keeps_raising_is_given_up_until_its_facts_change(
    engine_control: Path, monkeypatch, settings
):
    # given: a listing whose check raises every time (a rule's bug, injected here)
    settings.CROSSCHECK_MAX_FAILURES = 2
    settings.CROSSCHECK_RESEND_SECONDS = 0  # every sweep may resend
    photo = PhotoFactory()
    services.crosscheck_requests_create(listing_ids=[photo.listing_id])

    def broken_rule(*, listing_id: int) -> list:
        raise RuntimeError("rule bug")

    monkeypatch.setattr(check_services, "listing_crosscheck", broken_rule)
    # when: the sweeper runs twice as often as the limit
    sent = [tasks.crosscheck_sweep.apply().get() for _ in range(4)]
    # then: it sent the check twice, then stopped, the error kept and the listing still due
    assert sent == [1, 1, 0, 0]
    request = CrosscheckRequest.objects.get(listing_id=photo.listing_id)
    assert (request.failures, request.last_error) == (2, "RuntimeError: rule bug")
    assert request.is_due
    # when: new facts arrive (and the rule is fixed)
    monkeypatch.undo()
    services.crosscheck_requests_create(listing_ids=[photo.listing_id])
    # then: the check is sent again and ends done, its count cleared
    assert tasks.crosscheck_sweep.apply().get() == 1
    request.refresh_from_db()
    assert not request.is_due
    assert (request.failures, request.last_error) == (0, "")


def test_a_request_made_while_the_check_runs_stays_due():
    photo = PhotoFactory()
    services.crosscheck_requests_create(listing_ids=[photo.listing_id])
    token = services.crosscheck_request_token(listing_id=photo.listing_id)
    services.crosscheck_requests_create(listing_ids=[photo.listing_id])  # new readings arrive
    services.crosscheck_request_done(listing_id=photo.listing_id, token=token)
    assert CrosscheckRequest.objects.get(listing_id=photo.listing_id).is_due


# --- workers that die, and photos that kill them ------------------------------------------


class WorkerKilled(BaseException):
    """What SIGKILL, the OOM killer or the hard time limit do to a worker: nothing after it runs
    (no handler, no release), so the photos it held keep their lease until it runs out."""


def deliver(photo_ids: list[int]) -> None:
    """A worker takes one recognize_photos message; a simulated death ends it there."""
    try:
        tasks.recognize_photos.apply(args=[photo_ids])
    except WorkerKilled:
        pass


def expire_leases(photos: list[Photo]) -> None:
    """RECOGNITION_LEASE_SECONDS later."""
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_the_requeue_sends_each_expired_lease_in_its_own_message(redis_broker, settings):
    settings.RECOGNITION_UNSENT_GRACE_SECONDS = 0
    dead = [leased(lease_expires_at=timezone.now() - timedelta(seconds=1)) for _ in range(3)]
    unsent = [PhotoFactory(status=Photo.Status.PENDING) for _ in range(2)]
    assert dispatch.photos_requeue() == 5
    assert take_messages(redis_broker, "recognition") == [
        [dead[0].pk],
        [dead[1].pk],
        [dead[2].pk],
        [unsent[0].pk, unsent[1].pk],  # nobody died on these: one message, one GPU batch
    ]


def test_transient_retries_do_not_count_toward_the_poison_limit(
    engine_control: Path, monkeypatch, redis_broker, settings
):
    assert settings.RECOGNITION_MAX_ATTEMPTS == 3
    settings.RECOGNITION_UNSENT_GRACE_SECONDS = 0
    photo = PhotoFactory()
    calls = 0
    read = tasks.engine_recognize

    def two_gpu_timeouts_then_the_worker_dies(engine, images):
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise TimeoutError("GPU timeout")
        raise WorkerKilled

    monkeypatch.setattr(tasks, "engine_recognize", two_gpu_timeouts_then_the_worker_dies)
    deliver([photo.pk])
    assert calls == 3
    assert refreshed(photo).status == Photo.Status.PROCESSING
    assert photo.attempts == 1  # the retries went on with the first start
    monkeypatch.setattr(tasks, "engine_recognize", read)
    expire_leases([photo])
    dispatch.photos_requeue()
    for message in take_messages(redis_broker, "recognition"):
        deliver(message)
    assert refreshed(photo).status == Photo.Status.DONE
    assert photo.attempts == 2  # one death
    assert Reading.objects.filter(photo=photo, model_version=VERSION).count() == 1


def test_a_poison_photo_dies_alone_and_its_batch_mates_are_read(
    engine_control: Path, monkeypatch, redis_broker, settings
):
    settings.RECOGNITION_UNSENT_GRACE_SECONDS = 0
    healthy = PhotoFactory.create_batch(3)
    poison = PhotoFactory(content=jpeg_bytes(63, 47), width=63, height=47)
    read = tasks.engine_recognize

    def dies_on_the_poison_photo(engine, images):
        if any(image.shape[1] == 63 for image in images):
            raise WorkerKilled
        return read(engine, images)

    monkeypatch.setattr(tasks, "engine_recognize", dies_on_the_poison_photo)
    deliver(sorted(p.pk for p in [*healthy, poison]))  # one backlog message: all four die
    for _ in range(settings.RECOGNITION_MAX_ATTEMPTS):  # the sweeper, after each lease
        expire_leases(list(Photo.objects.filter(status=Photo.Status.PROCESSING)))
        dispatch.photos_requeue()
        for message in take_messages(redis_broker, "recognition"):
            deliver(message)
    assert refreshed(poison).status == Photo.Status.FAILED
    assert "poison photo" in poison.last_error
    assert poison.attempts == settings.RECOGNITION_MAX_ATTEMPTS
    assert [refreshed(p).status for p in healthy] == [Photo.Status.DONE] * 3
    assert [p.attempts for p in healthy] == [2, 2, 2]  # their batch's one death
    assert Reading.objects.filter(photo__in=healthy, model_version=VERSION).count() == 3


def test_a_stale_message_leaves_a_poison_photo_failed(engine_control: Path):
    # Redis redelivers a killed worker's unacked message after visibility_timeout (an hour),
    # long after the photo was failed as poison: reading it would start the deaths again.
    poison = PhotoFactory(
        status=Photo.Status.FAILED,
        attempts=3,
        last_error="gave up after 3 attempts: the worker stopped while recognising this photo "
        "every time (poison photo)",
        queued_at=timezone.now(),
    )
    deliver([poison.pk])
    assert refreshed(poison).status == Photo.Status.FAILED
    assert poison.attempts == 3
    assert "poison photo" in poison.last_error
    assert poison.queued_at is None
    assert not (engine_control / "calls").exists()
