"""The recognition chain through a real Celery worker, PostgreSQL and Redis."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from recognition.models import Reading
from tests.fixtures import images
from tests.fixtures.worker import Worker, cut_database_sessions, wait_for
from webapp.listings.models import Photo
from webapp.listings.services import listing_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Generous: the worker shares two CPU cores with a training job.
DONE_TIMEOUT_S = 60


def upload_photo(marketplace_id: str = "MP-W1") -> Photo:
    _, added = listing_create(
        marketplace_id=marketplace_id, owner=None, photos=[io.BytesIO(images.jpeg())]
    )
    return added[0].photo


def wait_status(
    photo: Photo, *statuses: str, worker: Worker, timeout: float = DONE_TIMEOUT_S
) -> Photo:
    def settled() -> Photo | None:
        photo.refresh_from_db()
        return photo if photo.status in statuses else None

    try:
        wait_for(settled, timeout=timeout, what=f"photo {photo.pk} to be {statuses}")
    except AssertionError as exc:
        state = f"{photo.status} attempts={photo.attempts} error={photo.last_error!r}"
        raise AssertionError(f"{exc}; photo is {state}; worker log:\n{worker.log()}") from None
    return photo


def completed_calls(control: Path) -> int:
    calls = control / "calls"
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_an_uploaded_photo_goes_through_the_chain(celery_worker: Worker, engine_control: Path):
    # given
    (engine_control / "plates").write_text("A123BC77,X999XX99")
    # when
    photo = upload_photo()
    # then
    wait_status(photo, Photo.Status.DONE, worker=celery_worker)
    texts = sorted(Reading.objects.filter(photo=photo).values_list("plate_text", flat=True))
    assert texts == ["A123BC77", "X999XX99"]
    assert photo.model_version == "double-1"
    assert photo.attempts == 1
    assert photo.last_error == ""


def test_a_transient_engine_error_is_retried_then_succeeds(
    celery_worker: Worker, engine_control: Path
):
    (engine_control / "mode").write_text("transient:2")
    photo = upload_photo()
    wait_status(photo, Photo.Status.DONE, worker=celery_worker)
    assert (engine_control / "transient_count").read_text() == "2"
    assert photo.attempts == 1  # retries go on with the same start: no step toward poison
    assert Reading.objects.filter(photo=photo).count() == 1
    assert completed_calls(engine_control) == 1


def test_a_worker_killed_mid_task_does_not_lose_the_photo(
    celery_worker: Worker, engine_control: Path, sweeper
):
    # given a worker stuck inside the engine on our photo
    (engine_control / "mode").write_text("block")
    photo = upload_photo()
    wait_for((engine_control / "started").exists, timeout=DONE_TIMEOUT_S, what="engine start")
    # when it is SIGKILLed and a new worker starts
    celery_worker.kill()
    (engine_control / "mode").write_text("ok")
    assert Photo.objects.get(pk=photo.pk).status == Photo.Status.PROCESSING
    celery_worker.start()
    # then once its lease runs out the sweeper resends it, and it is read exactly once
    wait_status(photo, Photo.Status.DONE, worker=celery_worker)
    assert photo.attempts == 2
    assert Reading.objects.filter(photo=photo).count() == 1
    assert completed_calls(engine_control) == 1


def test_a_photo_that_kills_the_worker_every_time_ends_failed(
    celery_worker: Worker, engine_control: Path, settings, sweeper
):
    # given an engine that takes the whole worker down on this photo
    (engine_control / "mode").write_text("die")
    photo = upload_photo()
    # when the worker is restarted after every death (as systemd would)
    for _ in range(settings.RECOGNITION_MAX_ATTEMPTS):
        celery_worker.wait_dead(timeout=DONE_TIMEOUT_S)
        celery_worker.start()
    # then the next delivery gives up on it instead of dying again
    wait_status(photo, Photo.Status.FAILED, worker=celery_worker)
    assert photo.attempts == settings.RECOGNITION_MAX_ATTEMPTS
    assert "poison photo" in photo.last_error
    assert celery_worker.process is not None
    assert celery_worker.process.poll() is None
    assert not Reading.objects.filter(photo=photo).exists()


def test_a_database_restart_mid_task_is_retried_and_the_photo_still_read(
    celery_worker: Worker, engine_control: Path
):
    # given a worker inside the engine, holding its database connection
    (engine_control / "mode").write_text("block")
    photo = upload_photo()
    wait_for((engine_control / "started").exists, timeout=DONE_TIMEOUT_S, what="engine start")
    # when every other session to the database is cut, as a PostgreSQL restart does
    assert cut_database_sessions() >= 1
    (engine_control / "mode").write_text("ok")
    (engine_control / "release").touch()
    # then storing fails on the dead connection, is retried as transient, and succeeds
    wait_status(photo, Photo.Status.DONE, worker=celery_worker)
    assert photo.attempts == 1  # a transient retry, not a worker's death
    assert Reading.objects.filter(photo=photo).count() == 1
