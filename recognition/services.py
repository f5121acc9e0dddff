"""Writes for recognition results: claiming a photo, storing readings, failing it.

A photo's row is the state machine: pending -> processing -> done | failed. Every transition
happens under a row lock so two deliveries of the same task cannot both store readings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image

from recognition.models import BacklogRun, CrosscheckRequest, PhotoRead, Reading
from recognition.pipeline.images import rgb_array
from recognition.pipeline.types import PhotoResult, PlateArea, PlateReading
from webapp.listings.models import Photo
from webapp.partners.webhooks import webhook_event_emit

logger = logging.getLogger(__name__)

HUMAN_MODEL_VERSION = "human"
# How `last_error` starts when no engine could be loaded; the backlog reads such photos again.
ENGINE_UNAVAILABLE = "engine unavailable"


@dataclass(frozen=True)
class Claim:
    photo_id: int
    listing_id: int


def photos_claim(*, photo_ids: Sequence[int], engine_version: str, worker: str) -> list[Claim]:
    """Lease the photos this worker may read now; the others are dropped (with the reason logged).

    Rows another transaction holds are skipped (SKIP LOCKED): someone is claiming or storing
    them this instant. A photo whose lease is live belongs to another worker, so a redelivered
    or duplicate message is dropped. A photo still `processing` with an expired lease was left
    by a dead worker: it is claimed again, and after RECOGNITION_MAX_ATTEMPTS such starts it is
    a poison photo and fails instead of killing workers for ever.

    `attempts` counts those starts: the first claim, then one more for each claim of a photo
    whose worker died on it. A transient retry (`photo_release_for_retry`) continues the same
    start, so GPU timeouts never make a photo poison. A failed photo is never claimed: a stale
    message (a broker's redelivery an hour later) would otherwise start a poison photo's
    deaths again; people and the backlog ask for it again by setting it pending first.
    """
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.RECOGNITION_LEASE_SECONDS)
    with transaction.atomic():
        photos = list(
            Photo.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(photo_ids))
            .order_by("pk")
        )
        claimed = [p for p in photos if _claimable(p, engine_version, now, worker)]
        for photo in claimed:
            photo.attempts = _starts_after_claim(photo, now)
            photo.status = Photo.Status.PROCESSING
            photo.lease_expires_at, photo.leased_by = lease_until, worker[:128]
            photo.queued_at = None
            photo.updated_at = now
        Photo.objects.bulk_update(claimed, _CLAIM_FIELDS)
    return [Claim(photo_id=p.pk, listing_id=p.listing_id) for p in claimed]


_CLAIM_FIELDS = ["status", "attempts", "lease_expires_at", "leased_by", "queued_at", "updated_at"]


def _claimable(photo: Photo, engine_version: str, now: datetime, worker: str) -> bool:
    if photo.status == Photo.Status.DONE and photo.model_version == engine_version:
        if photo.plate_areas is None:  # read before its areas were kept: read for them only
            return True
        logger.info("photo %s already read by %s", photo.pk, engine_version)
        _clear_queued(photo)
        return False
    if photo.status == Photo.Status.FAILED:
        logger.info("photo %s failed (%s): message dropped", photo.pk, photo.last_error[:200])
        _clear_queued(photo)
        return False
    if photo.status != Photo.Status.PROCESSING:
        return True
    if _lease_live(photo, now):
        # A process runs one task at a time: its own lease on a retry means its last try ended.
        if photo.leased_by != worker[:128]:
            logger.info("photo %s is leased by %s: message dropped", photo.pk, photo.leased_by)
            return False
        return True
    if photo.attempts >= settings.RECOGNITION_MAX_ATTEMPTS:
        _fail(
            photo,
            f"gave up after {photo.attempts} attempts: the worker stopped while "
            "recognising this photo every time (poison photo)",
        )
        return False
    return True


def _lease_live(photo: Photo, now: datetime) -> bool:
    return photo.lease_expires_at is not None and photo.lease_expires_at > now


def _clear_queued(photo: Photo) -> None:
    if photo.queued_at is not None:
        Photo.objects.filter(pk=photo.pk).update(queued_at=None)


def _starts_after_claim(photo: Photo, now: datetime) -> int:
    """`attempts` once `photo` (claimable) is claimed: the starts a worker may have died in."""
    if photo.status == Photo.Status.DONE:
        return 1  # a newer model: a new request, whatever the older one went through
    if photo.status == Photo.Status.PROCESSING:
        # Our own live lease: our last try ended (its release failed), nobody died on it.
        return photo.attempts if _lease_live(photo, now) else photo.attempts + 1
    # Pending: a first start (0 so far), or a transient retry going on with the same start.
    return max(photo.attempts, 1)


def photo_claim(*, photo_id: int, engine_version: str, worker: str = "") -> Claim | None:
    claims = photos_claim(photo_ids=[photo_id], engine_version=engine_version, worker=worker)
    return claims[0] if claims else None


def photo_image_load(*, photo_id: int) -> np.ndarray:
    """The stored (already upright) photo as RGB uint8 HxWx3, as the engine expects, whatever
    its mode (CMYK, palette or alpha, 16-bit; see `rgb_array`)."""
    photo = Photo.objects.only("image").get(pk=photo_id)
    with photo.image.open("rb") as handle, Image.open(handle) as image:
        return rgb_array(image)


def photos_readings_store(
    *, engine_version: str, results: Sequence[tuple[Claim, PhotoResult]]
) -> list[int]:
    """Store a batch of engine results in one transaction; returns the listings to cross-check.

    A photo this version already read (another worker finished it after our lease ran out) is
    left alone, so a photo never gets two reading sets of one version; one it read in the
    shadow (`photos_shadow_store`) keeps that set and becomes `done` by this version. The
    cross-check request is written in the same transaction (the outbox): it exists exactly when
    the readings do.
    """
    now = timezone.now()
    ids = [claim.photo_id for claim, _ in results]
    with transaction.atomic():
        photos = {
            p.pk: p for p in Photo.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        already = _read_by_version(ids, engine_version)
        stored: list[Photo] = []
        new_sets: list[tuple[Photo, PhotoResult]] = []
        for claim, result in results:
            photo = photos.get(claim.photo_id)
            if photo is None or (
                photo.status == Photo.Status.DONE and photo.model_version == engine_version
            ):
                continue
            if photo.pk not in already:
                new_sets.append((photo, result))
            photo.status, photo.model_version = Photo.Status.DONE, engine_version
            photo.plate_areas = [_area_json(area) for area in result.areas]
            photo.last_error = ""
            photo.processed_at = photo.updated_at = now
            photo.lease_expires_at, photo.leased_by = None, ""
            stored.append(photo)
        _reading_sets_create(engine_version, new_sets, now)
        Photo.objects.bulk_update(stored, _STORE_FIELDS)
        listing_ids = sorted({photo.listing_id for photo in stored})
        crosscheck_requests_create(listing_ids=listing_ids)
        # Partners' webhooks, sent after the commit. In listing order: each emit takes its
        # listing's order lock, and two batches must take them in one order not to deadlock.
        for photo in sorted(stored, key=lambda p: (p.listing_id, p.pk)):
            webhook_event_emit(
                event="photo.recognized", listing_id=photo.listing_id, data={"photo_id": photo.pk}
            )
    return listing_ids


_STORE_FIELDS = [
    "status",
    "model_version",
    "plate_areas",
    "last_error",
    "processed_at",
    "updated_at",
    "lease_expires_at",
    "leased_by",
]


def photo_readings_store(*, photo_id: int, engine_version: str, result: PhotoResult) -> bool:
    """Store one engine result; False when this version's readings were already stored."""
    listing_id = Photo.objects.values_list("listing_id", flat=True).get(pk=photo_id)
    claim = Claim(photo_id=photo_id, listing_id=listing_id)
    return bool(photos_readings_store(engine_version=engine_version, results=[(claim, result)]))


def photos_shadow_store(*, engine_version: str, results: Sequence[tuple[int, PhotoResult]]) -> int:
    """Store what a candidate engine version read on photos in the shadow (`manage.py
    shadow_read`); returns the photos stored. Its readings and reads are kept for the versions'
    comparison only: the photo's status, version and plate areas stay the installed engine's,
    nothing is cross-checked and no partner hears of it. A photo this version already read is
    left as it is (the same version installed later finds its readings and adds none)."""
    now = timezone.now()
    ids = [photo_id for photo_id, _ in results]
    with transaction.atomic():
        photos = {p.pk: p for p in Photo.objects.filter(pk__in=ids).only("pk")}
        already = _read_by_version(ids, engine_version)
        stored = [
            (photos[photo_id], result)
            for photo_id, result in results
            if photo_id in photos and photo_id not in already
        ]
        _reading_sets_create(engine_version, stored, now)
    return len(stored)


def _reading_sets_create(
    engine_version: str, sets: Sequence[tuple[Photo, PhotoResult]], now: datetime
) -> None:
    """Each photo's reading set of this version: its readings, and its read (kept even when it
    found no plate)."""
    Reading.objects.bulk_create(
        _reading_from(photo, engine_version, plate, result)
        for photo, result in sets
        for plate in result.plates
    )
    PhotoRead.objects.bulk_create(
        PhotoRead(photo=photo, model_version=engine_version, plates=len(result.plates),
                  read_at=now)
        for photo, result in sets
    )  # fmt: skip


def _read_by_version(photo_ids: Sequence[int], engine_version: str) -> set[int]:
    """The photos `engine_version` has a reading set of (a read kept, in the shadow too, or
    readings from before reads were kept): it never gets a second one."""
    reads = PhotoRead.objects.filter(photo_id__in=photo_ids, model_version=engine_version)
    readings = Reading.objects.filter(
        photo_id__in=photo_ids, model_version=engine_version, source=Reading.Source.ENGINE
    )
    return set(reads.values_list("photo_id", flat=True)) | set(
        readings.values_list("photo_id", flat=True)
    )


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


def _area_json(area: PlateArea) -> dict[str, object]:
    return {
        "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in area.corners],
        "score": round(float(area.score), 4),
        "read": bool(area.read),
    }


def photo_fail(*, photo_id: int, error: str) -> None:
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is not None and photo.status != Photo.Status.DONE:
            _fail(photo, error)


def photo_release_for_retry(*, photo_id: int, error: str) -> None:
    """A transient error: back to pending (not a crash), keeping the reason for people to see.

    The retry is already on its way (Celery sends it), so the photo counts as queued. `attempts`
    is kept: the retry is the same start (see `photos_claim`). A photo that failed meanwhile
    stays failed.
    """
    now = timezone.now()
    Photo.objects.filter(pk=photo_id).exclude(
        status__in=[Photo.Status.DONE, Photo.Status.FAILED]
    ).update(
        status=Photo.Status.PENDING,
        last_error=f"retrying: {error}"[:2000],
        lease_expires_at=None,
        leased_by="",
        queued_at=now,
        updated_at=now,
    )


def _fail(photo: Photo, error: str) -> None:
    logger.warning("photo %s failed: %s", photo.pk, error)
    photo.status = Photo.Status.FAILED
    photo.last_error = error[:2000]
    photo.processed_at = timezone.now()
    photo.lease_expires_at, photo.leased_by = None, ""
    photo.save(
        update_fields=[
            "status", "last_error", "processed_at", "lease_expires_at", "leased_by", "updated_at"
        ]
    )  # fmt: skip


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


# --- the cross-check outbox ---------------------------------------------------------------------


def crosscheck_requests_create(*, listing_ids: Sequence[int]) -> None:
    """Ask for a cross-check of these listings, inside the caller's transaction (the outbox)."""
    if not listing_ids:
        return
    now = timezone.now()
    CrosscheckRequest.objects.bulk_create(
        [CrosscheckRequest(listing_id=pk, requested_at=now) for pk in sorted(set(listing_ids))],
        update_conflicts=True,
        unique_fields=["listing"],
        # New facts may be what the failing checks lacked: they start the count again.
        update_fields=["requested_at", "sent_at", "failures", "last_error"],
    )


def crosscheck_requests_mark_sent(*, listing_ids: Sequence[int]) -> None:
    CrosscheckRequest.objects.filter(listing_id__in=list(listing_ids)).update(
        sent_at=timezone.now()
    )


def crosscheck_request_token(*, listing_id: int) -> datetime | None:
    """When the latest request was made; read before the check reads the listing's facts."""
    return (
        CrosscheckRequest.objects.filter(listing_id=listing_id)
        .values_list("requested_at", flat=True)
        .first()
    )


def crosscheck_request_done(*, listing_id: int, token: datetime) -> None:
    """Everything requested up to `token` is checked; a later request stays due."""
    CrosscheckRequest.objects.filter(listing_id=listing_id, requested_at__lte=token).update(
        checked_at=token, failures=0, last_error=""
    )


def crosscheck_request_failed(*, listing_id: int, error: str) -> None:
    """The check raised: counted, so that the sweeper stops resending a check that always
    raises (`CROSSCHECK_MAX_FAILURES`) and the admin shows why."""
    CrosscheckRequest.objects.filter(listing_id=listing_id).update(
        failures=F("failures") + 1, last_error=error[:2000]
    )


# --- queue bookkeeping: one message per photo -----------------------------------------------


def photos_mark_queued(
    *, photo_ids: Sequence[int], backlog_run: BacklogRun | None = None
) -> list[int]:
    """Mark the photos that may get a message now; returns them (the others have one, or a lease).

    The marks are committed before the message is sent, so a worker never claims a photo
    the sender still thinks unqueued. A backlog run records the photos it sends in the same
    transaction, while their rows are locked: its progress counts exactly these photos.
    """
    now = timezone.now()
    live_lease = Q(status=Photo.Status.PROCESSING, lease_expires_at__gt=now)
    with transaction.atomic():
        ids = list(
            Photo.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(photo_ids), queued_at__isnull=True)
            .exclude(live_lease)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Photo.objects.filter(pk__in=ids).update(queued_at=now)
        if backlog_run is not None:
            member = BacklogRun.photos.through
            member.objects.bulk_create(
                [member(backlogrun_id=backlog_run.pk, photo_id=pk) for pk in ids],
                ignore_conflicts=True,
            )
    return ids


def photos_reopen_for_backlog(*, photo_ids: Sequence[int]) -> int:
    """Photos failed for want of an engine, asked for again now that one is installed.

    They become pending with no starts before their message is sent, as a person's "recognise
    again" does: the claim never revives a failed photo (see `photos_claim`).
    """
    return Photo.objects.filter(
        pk__in=list(photo_ids),
        status=Photo.Status.FAILED,
        last_error__startswith=ENGINE_UNAVAILABLE,
        queued_at__isnull=True,
    ).update(status=Photo.Status.PENDING, attempts=0, last_error="", updated_at=timezone.now())


def photos_unmark_queued(*, photo_ids: Sequence[int]) -> None:
    """The message never went out: let the sweeper or the next backlog send it."""
    Photo.objects.filter(pk__in=list(photo_ids)).update(queued_at=None)
