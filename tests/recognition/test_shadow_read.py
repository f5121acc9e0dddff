"""A candidate engine read in the shadow: its readings are kept for the versions' comparison and
change nothing else; installed later, the same version keeps that one reading set."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from recognition import selectors, services
from recognition.models import CrosscheckRequest, PhotoRead, Reading
from recognition.pipeline.types import PhotoResult, PlateReading
from tests.fixtures.factories import ListingFactory, PhotoFactory, PhotoReadFactory
from webapp.listings.models import Photo
from webapp.partners.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

INSTALLED, CANDIDATE = "double-1", "double-2"
CORNERS = ((0, 0), (4, 0), (4, 1), (0, 1))


def _result(*texts: str) -> PhotoResult:
    return PhotoResult(
        tuple(
            PlateReading(t, "ua_2015", 0.9, (0.9,) * len(t), (), CORNERS, (0, 0, 4, 1), 1)
            for t in texts
        )
    )


def _read_photo(**fields) -> Photo:
    """A photo the installed engine read, with a partner listening to its listing's events."""
    photo = PhotoFactory(
        status=Photo.Status.DONE, model_version=INSTALLED, plate_areas=[], **fields
    )
    PhotoReadFactory(photo=photo, model_version=INSTALLED, plates=0)
    return photo


def test_a_shadow_read_keeps_readings_and_changes_nothing_else(partner):
    # given a read photo whose listing's owner listens to every event
    listing = ListingFactory(owner=partner)
    photo = _read_photo(listing=listing, processed_at=timezone.now())
    WebhookEndpoint.objects.create(
        owner=partner, url="http://127.0.0.1:9/hook", events=["photo.recognized"], secret="whsec_x"
    )
    before = Photo.objects.get(pk=photo.pk)
    # when the candidate's reading of it is stored in the shadow, twice
    for _ in range(2):
        services.photos_shadow_store(
            engine_version=CANDIDATE, results=[(photo.pk, _result("AA1234BB"))]
        )
    # then its readings and read are kept once
    texts = list(
        Reading.objects.filter(photo=photo, model_version=CANDIDATE).values_list(
            "plate_text", flat=True
        )
    )
    assert texts == ["AA1234BB"]
    assert PhotoRead.objects.get(photo=photo, model_version=CANDIDATE).plates == 1
    # and the photo, the cross-check and the partner know nothing of it
    after = Photo.objects.get(pk=photo.pk)
    assert (after.status, after.model_version, after.plate_areas, after.updated_at) == (
        before.status, before.model_version, before.plate_areas, before.updated_at,
    )  # fmt: skip
    assert not CrosscheckRequest.objects.filter(listing=listing).exists()
    assert not WebhookDelivery.objects.exists()


def test_installed_later_the_version_keeps_its_shadow_reading_set():
    # given a photo the candidate read in the shadow and found nothing on
    photo = _read_photo()
    services.photos_shadow_store(engine_version=CANDIDATE, results=[(photo.pk, _result())])
    # when the candidate, now installed, reads it for real (the backlog) and finds a plate
    claim = services.photo_claim(photo_id=photo.pk, engine_version=CANDIDATE)
    assert claim is not None
    services.photos_readings_store(engine_version=CANDIDATE, results=[(claim, _result("AA1234BB"))])
    # then the photo is done by it, with the one reading set it had
    photo.refresh_from_db()
    assert (photo.status, photo.model_version) == (Photo.Status.DONE, CANDIDATE)
    assert not Reading.objects.filter(photo=photo, model_version=CANDIDATE).exists()
    assert PhotoRead.objects.filter(photo=photo, model_version=CANDIDATE).count() == 1


def test_the_shadow_takes_the_latest_read_photos_the_version_has_not_read():
    older = _read_photo(processed_at=timezone.now() - timedelta(hours=2))
    newer = _read_photo(processed_at=timezone.now())
    done_by_it = _read_photo(processed_at=timezone.now())
    PhotoReadFactory(photo=done_by_it, model_version=CANDIDATE)
    PhotoFactory()  # pending: not read yet
    undated = _read_photo(processed_at=None)  # read before the time was kept: the last
    assert selectors.photo_ids_shadow(engine_version=CANDIDATE, limit=10) == [
        newer.pk, older.pk, undated.pk,
    ]  # fmt: skip
    assert selectors.photo_ids_shadow(engine_version=CANDIDATE, limit=1) == [newer.pk]


def test_the_command_reads_in_the_shadow_and_skips_an_unreadable_photo(
    monkeypatch, capsys, tmp_path: Path
):
    # given two read photos, one of whose files is no image any more
    good = _read_photo(processed_at=timezone.now())
    broken = _read_photo(processed_at=timezone.now())
    broken.image.save("broken.jpg", ContentFile(b"not a jpeg"), save=True)
    monkeypatch.setenv("ENGINE_DOUBLE_VERSION", CANDIDATE)
    # when the candidate reads the latest photos in the shadow
    call_command("shadow_read", "--models", str(tmp_path), "--no-progress")
    # then the good one is read by it, the broken one skipped with its reason
    out, err = capsys.readouterr()
    assert f"{CANDIDATE}: 1 photos read in the shadow" in out
    assert "1 unreadable" in out
    assert f"photo {broken.pk} skipped" in err
    assert set(
        PhotoRead.objects.filter(model_version=CANDIDATE).values_list("photo_id", flat=True)
    ) == {good.pk}
    assert Photo.objects.get(pk=good.pk).model_version == INSTALLED
    # and a second run finds nothing new to read but the broken photo
    call_command("shadow_read", "--models", str(tmp_path), "--no-progress")
    assert f"{CANDIDATE}: 0 photos read in the shadow" in capsys.readouterr().out


def test_the_real_engine_reads_a_sample_photo_in_the_shadow(settings, capsys):
    # given a sample photo the installed engine (here a stand-in version) read
    sample = Path(settings.BASE_DIR) / "webapp/listings/sample_data/photos/AA1234BB_a.jpg"
    photo = _read_photo(processed_at=timezone.now())
    photo.image.save("AA1234BB_a.jpg", ContentFile(sample.read_bytes()), save=True)
    # when the shipped weights read it in the shadow, loaded from their folder
    settings.PLATECHECK_ENGINE = "recognition.pipeline.engine:load_engine"
    call_command(
        "shadow_read", "--models", str(Path(settings.BASE_DIR) / "models"), "--no-progress"
    )
    # then their version read the plate, and the photo is still the installed engine's
    read = PhotoRead.objects.exclude(model_version=INSTALLED).get(photo=photo)
    assert read.model_version.startswith("det-")
    assert list(Reading.objects.filter(photo=photo).values_list("plate_text", flat=True)) == [
        "AA1234BB"
    ]
    assert Photo.objects.get(pk=photo.pk).model_version == INSTALLED
    assert f"{read.model_version}: 1 photos read in the shadow" in capsys.readouterr().out
