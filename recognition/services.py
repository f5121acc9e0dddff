"""Writes for recognition results: claiming a photo, storing readings, failing it.

A photo's row is the state machine: pending -> processing -> done | failed. Every transition
happens under a row lock so two deliveries of the same task cannot both store readings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from PIL import Image

from recognition.models import Reading
from recognition.pipeline.types import PhotoResult, PlateReading
from webapp.listings.models import Photo
from webapp.partners.webhooks import webhook_event_emit

logger = logging.getLogger(__name__)

HUMAN_MODEL_VERSION = "human"


@dataclass(frozen=True)
class Claim:
    photo_id: int
    listing_id: int


def photo_claim(*, photo_id: int, engine_version: str) -> Claim | None:
    """Mark the photo as processing, or say why it must not be processed (None).

    A photo still `processing` when a task starts means the previous delivery never finished:
    the worker died on it. After RECOGNITION_MAX_ATTEMPTS starts it is a poison photo and fails
    instead of being redelivered for ever.
    """
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None:
            logger.warning("photo %s no longer exists", photo_id)
            return None
        if photo.status == Photo.Status.DONE and photo.model_version == engine_version:
            logger.info("photo %s already read by %s", photo_id, engine_version)
            return None
        if photo.status in (Photo.Status.DONE, Photo.Status.FAILED):
            photo.attempts = 0  # a new request (new model, or a retry asked for by a person)
        if (
            photo.status == Photo.Status.PROCESSING
            and photo.attempts >= settings.RECOGNITION_MAX_ATTEMPTS
        ):
            _fail(
                photo,
                f"gave up after {photo.attempts} attempts: the worker stopped while "
                "recognising this photo every time (poison photo)",
            )
            return None
        photo.status = Photo.Status.PROCESSING
        photo.attempts += 1
        photo.save(update_fields=["status", "attempts", "updated_at"])
        return Claim(photo_id=photo.pk, listing_id=photo.listing_id)


def photo_image_load(*, photo_id: int) -> np.ndarray:
    """The stored (already upright) photo as RGB uint8 HxWx3, as the engine expects."""
    photo = Photo.objects.only("image").get(pk=photo_id)
    with photo.image.open("rb") as handle, Image.open(handle) as image:
        return np.asarray(image.convert("RGB"))


def photo_readings_store(*, photo_id: int, engine_version: str, result: PhotoResult) -> bool:
    """Store one engine result; False when this version's readings were already stored."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().get(pk=photo_id)
        if photo.status == Photo.Status.DONE and photo.model_version == engine_version:
            return False
        already = Reading.objects.filter(
            photo=photo, model_version=engine_version, source=Reading.Source.ENGINE
        ).exists()
        if not already:
            Reading.objects.bulk_create(
                [_reading_from(photo, engine_version, plate, result) for plate in result.plates]
            )
        photo.status = Photo.Status.DONE
        photo.model_version = engine_version
        photo.last_error = ""
        photo.processed_at = timezone.now()
        photo.save(
            update_fields=["status", "model_version", "last_error", "processed_at", "updated_at"]
        )
        webhook_event_emit(
            event="photo.recognized", listing_id=photo.listing_id, data={"photo_id": photo.pk}
        )
    return True


def _reading_from(
    photo: Photo, engine_version: str, plate: PlateReading, result: PhotoResult
) -> Reading:
    return Reading(
        photo=photo,
        model_version=engine_version,
        source=Reading.Source.ENGINE,
        plate_text=plate.text[:16],
        plate_format=plate.format[:16],
        confidence=float(plate.confidence),
        char_confidences=[float(c) for c in plate.char_confidences],
        alternatives=[{"text": a.text, "score": float(a.score)} for a in plate.alternatives],
        corners=[[float(x), float(y)] for x, y in plate.corners],
        box=[float(v) for v in plate.box],
        detection_score=float(plate.detection_score),
        timings={stage: float(ms) for stage, ms in result.timings_ms.items()},
    )


def photo_fail(*, photo_id: int, error: str) -> None:
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is not None and photo.status != Photo.Status.DONE:
            _fail(photo, error)


def photo_release_for_retry(*, photo_id: int, error: str) -> None:
    """A transient error: back to pending (not a crash), keeping the reason for people to see."""
    Photo.objects.filter(pk=photo_id).exclude(status=Photo.Status.DONE).update(
        status=Photo.Status.PENDING,
        last_error=f"retrying: {error}"[:2000],
        updated_at=timezone.now(),
    )


def _fail(photo: Photo, error: str) -> None:
    logger.warning("photo %s failed: %s", photo.pk, error)
    photo.status = Photo.Status.FAILED
    photo.last_error = error[:2000]
    photo.processed_at = timezone.now()
    photo.save(update_fields=["status", "last_error", "processed_at", "updated_at"])


def reading_create_human(
    *,
    photo_id: int,
    plate_text: str,
    user: AbstractBaseUser,
    base_reading_id: int | None = None,
) -> Reading:
    """A moderator's correction; keeps the engine's geometry when it corrects an engine reading."""
    from recognition.pipeline.regions import normalise_plate

    text = normalise_plate(plate_text)
    if not text or len(text) > 16:
        raise ValueError(f"not a plate: {plate_text!r}")
    photo = Photo.objects.get(pk=photo_id)
    base = (
        Reading.objects.filter(pk=base_reading_id, photo=photo).first()
        if base_reading_id is not None
        else None
    )
    if base_reading_id is not None and base is None:
        raise ValueError(f"reading {base_reading_id} is not on photo {photo_id}")
    return Reading.objects.create(
        photo=photo,
        model_version=HUMAN_MODEL_VERSION,
        source=Reading.Source.HUMAN,
        created_by=user,
        plate_text=text,
        plate_format=base.plate_format if base else "",
        confidence=1.0,
        char_confidences=[1.0] * len(text),
        alternatives=[{"text": text, "score": 1.0}],
        corners=base.corners if base else [],
        box=base.box if base else [],
        detection_score=base.detection_score if base else 0.0,
        timings={},
    )
