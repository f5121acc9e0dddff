"""Recognition tasks run in-process (eager): idempotence, versions, failures, the backlog."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from recognition import tasks
from recognition.engine_loader import reset_engine
from recognition.models import Reading
from recognition.services import reading_create_human
from tests.fixtures.factories import PhotoFactory, ReadingFactory, jpeg_bytes
from webapp.listings.models import Photo

pytestmark = pytest.mark.django_db


def refreshed(photo: Photo) -> Photo:
    photo.refresh_from_db()
    return photo


def test_recognising_twice_stores_one_set_of_readings(engine_control: Path):
    photo = PhotoFactory()
    tasks.recognize_photo.delay(photo.pk)
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.DONE
    assert photo.attempts == 1
    reading = Reading.objects.get(photo=photo)
    assert reading.model_version == "double-1"
    assert len(reading.corners) == 4
    assert reading.timings == {"detect": 1.0, "read": 0.5}


def test_a_newer_model_keeps_the_old_readings(engine_control: Path, monkeypatch):
    photo = PhotoFactory()
    tasks.recognize_photo.delay(photo.pk)
    monkeypatch.setenv("ENGINE_DOUBLE_VERSION", "double-2")
    reset_engine()
    tasks.recognize_photo.delay(photo.pk)
    versions = sorted(Reading.objects.filter(photo=photo).values_list("model_version", flat=True))
    assert versions == ["double-1", "double-2"]
    assert refreshed(photo).model_version == "double-2"


def test_no_engine_installed_fails_the_photo_with_a_clear_error(engine_control: Path):
    (engine_control / "mode").write_text("unavailable")
    photo = PhotoFactory()
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.FAILED
    assert photo.last_error.startswith("engine unavailable: ")
    assert not Reading.objects.filter(photo=photo).exists()


def test_a_transient_error_that_never_clears_fails_after_the_retries(engine_control: Path):
    (engine_control / "mode").write_text("transient:99")
    photo = PhotoFactory()
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.FAILED
    assert photo.last_error.startswith("gave up after retries: TimeoutError")
    assert (engine_control / "transient_count").read_text() == str(tasks.MAX_RETRIES + 1)


@pytest.mark.django_db(transaction=True)  # the task closes the broken connection
def test_a_database_error_loading_the_photo_every_time_fails_it_after_the_retries(
    engine_control: Path,
):
    # given: the database errors on every read of the photo's file name (not on the claim)
    photo = PhotoFactory()

    def image_read_fails(execute, sql, params, many, context):
        if sql.startswith("SELECT") and '"image"' in sql and "FOR UPDATE" not in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(image_read_fails):
        tasks.recognize_photo.delay(photo.pk)
    # then: each try freed its lease for the next, and the last gave up (not left processing)
    assert refreshed(photo).status == Photo.Status.FAILED
    assert photo.last_error.startswith("gave up after retries: OperationalError")
    assert (photo.lease_expires_at, photo.leased_by) == (None, "")


def test_an_unexpected_engine_error_is_recorded_on_the_photo(engine_control: Path, monkeypatch):
    def explode(engine, images):
        raise ValueError("bad tensor shape")

    monkeypatch.setattr(tasks, "engine_recognize", explode)
    photo = PhotoFactory()
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.FAILED
    assert photo.last_error == "ValueError: bad tensor shape"


def test_the_backlog_rereads_photos_of_older_models_in_batches(
    engine_control: Path, settings, monkeypatch
):
    settings.RECOGNITION_BATCH = 2
    old = [PhotoFactory(status=Photo.Status.DONE, model_version="double-0") for _ in range(3)]
    current = PhotoFactory(status=Photo.Status.DONE, model_version="double-1")
    sent: list[tuple[list[int], str]] = []
    monkeypatch.setattr(
        tasks.recognize_photos,
        "apply_async",
        # dispatch sends by name: Signature.apply_async passes (args, kwargs, **options)
        lambda args, kwargs=None, queue=None, **options: sent.append((args[0], queue)),
    )
    assert tasks.recognize_backlog.delay().get() == 3
    assert sent == [([old[0].pk, old[1].pk], "backlog"), ([old[2].pk], "backlog")]
    tasks.recognize_photos.apply(args=[sent[0][0] + [current.pk]])
    assert Reading.objects.filter(photo__in=old[:2], model_version="double-1").count() == 2
    assert not Reading.objects.filter(photo=current).exists()
    assert (engine_control / "calls").read_text().split()[1] == "2"  # one batch of two


def test_the_backlog_reads_again_a_photo_this_model_read_before_its_areas_were_kept(
    engine_control: Path,
):
    """Photos read before the places to hide were kept get them from the nightly backlog; their
    readings of this version stay one set."""
    legacy = PhotoFactory(status=Photo.Status.DONE, model_version="double-1", plate_areas=None)
    ReadingFactory(photo=legacy, model_version="double-1")
    kept = PhotoFactory(status=Photo.Status.DONE, model_version="double-1")
    assert tasks.recognize_backlog.delay().get() == 1
    assert refreshed(legacy).status == Photo.Status.DONE
    assert [a["read"] for a in legacy.plate_areas] == [True]
    assert Reading.objects.filter(photo=legacy, model_version="double-1").count() == 1
    assert refreshed(kept).plate_areas == []
    assert tasks.recognize_backlog.delay().get() == 0  # nothing left to read


def test_a_photo_started_too_often_without_finishing_is_a_poison_photo(engine_control, settings):
    photo = PhotoFactory(status=Photo.Status.PROCESSING, attempts=settings.RECOGNITION_MAX_ATTEMPTS)
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.FAILED
    assert "poison photo" in photo.last_error
    assert completed_calls_none(engine_control)


def completed_calls_none(control: Path) -> bool:
    return not (control / "calls").exists()


def test_a_moderator_correction_is_a_human_reading_next_to_the_engines(moderator):
    engine_reading = ReadingFactory(plate_text="A123BC77")
    human = reading_create_human(
        photo_id=engine_reading.photo_id,
        plate_text="а 124 вс 77",
        user=moderator,
        base_reading_id=engine_reading.pk,
    )
    assert human.source == Reading.Source.HUMAN
    assert human.plate_text == "A124BC77"
    assert human.corners == engine_reading.corners
    assert human.created_by == moderator
    assert Reading.objects.filter(photo_id=engine_reading.photo_id).count() == 2


def test_a_correction_must_name_a_reading_of_the_same_photo(moderator):
    other = ReadingFactory()
    photo = PhotoFactory()
    with pytest.raises(ValueError, match="is not on photo"):
        reading_create_human(
            photo_id=photo.pk, plate_text="A1", user=moderator, base_reading_id=other.pk
        )


def test_an_unreadable_photo_fails_alone_and_the_rest_of_its_batch_is_read(engine_control):
    broken, fine = PhotoFactory(), PhotoFactory()
    broken.image.storage.delete(broken.image.name)
    tasks.recognize_photos.delay([broken.pk, fine.pk])
    assert refreshed(broken).status == Photo.Status.FAILED
    assert broken.last_error.startswith("cannot read the stored photo")
    assert refreshed(fine).status == Photo.Status.DONE


def test_a_photo_the_engine_refuses_fails_alone_and_its_batch_mates_are_read(
    engine_control: Path, monkeypatch
):
    read = tasks.engine_recognize

    def refuses_thin_photos(engine, images):
        # What the detector's resize once did with a 1500 x 2 strip: the whole batch raised.
        if any(image.shape[0] < 16 for image in images):
            raise RuntimeError("Input and output sizes should be greater than 0")
        return read(engine, images)

    monkeypatch.setattr(tasks, "engine_recognize", refuses_thin_photos)
    first = PhotoFactory()
    thin = PhotoFactory(content=jpeg_bytes(1500, 2), width=1500, height=2)
    rest = PhotoFactory.create_batch(2)
    tasks.recognize_photos.delay([first.pk, thin.pk, rest[0].pk, rest[1].pk])
    assert refreshed(thin).status == Photo.Status.FAILED
    assert thin.last_error == "RuntimeError: Input and output sizes should be greater than 0"
    assert [refreshed(p).status for p in [first, *rest]] == [Photo.Status.DONE] * 3
    assert Reading.objects.filter(photo__in=[first, *rest], model_version="double-1").count() == 3
    batches = [line.split()[1] for line in (engine_control / "calls").read_text().splitlines()]
    assert batches == ["1", "1", "1"]  # the refused batch again, one photo at a time


def test_the_backlog_reads_a_photo_failed_for_want_of_an_engine_once_one_is_installed(
    engine_control: Path,
):
    (engine_control / "mode").write_text("unavailable")
    photo = PhotoFactory()
    tasks.recognize_photo.delay(photo.pk)
    assert refreshed(photo).status == Photo.Status.FAILED
    (engine_control / "mode").write_text("ok")
    reset_engine()
    assert tasks.recognize_backlog.delay().get() == 1
    assert refreshed(photo).status == Photo.Status.DONE
    assert photo.attempts == 1
    assert photo.last_error == ""
    assert Reading.objects.filter(photo=photo, model_version="double-1").count() == 1


def test_a_failed_photo_is_read_again_when_a_moderator_asks(
    engine_control: Path, admin_client, django_capture_on_commit_callbacks
):
    photo = PhotoFactory(
        status=Photo.Status.FAILED, attempts=3, last_error="gave up after 3 attempts (poison photo)"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:listings_photo_changelist"),
            {"action": "recognise_again", "_selected_action": [photo.pk]},
        )
    assert response.status_code == 302
    assert refreshed(photo).status == Photo.Status.DONE
    assert photo.attempts == 1
    assert Reading.objects.filter(photo=photo, model_version="double-1").count() == 1
