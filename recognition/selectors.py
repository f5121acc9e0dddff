"""Reads for recognition: which photos need the engine, what is lost, and how far the backlog is."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from recognition.models import BacklogRun, CrosscheckRequest, Reading
from webapp.listings.models import Photo


def _not_queued_nor_leased(now: datetime) -> Q:
    live_lease = Q(status=Photo.Status.PROCESSING, lease_expires_at__gt=now)
    return Q(queued_at__isnull=True) & ~live_lease


def photo_ids_backlog(
    *, engine_version: str, limit: int | None = None, after_id: int = 0
) -> list[int]:
    """Photos read by an older model (or failed for want of an engine, or read by this one before
    their plate areas were kept: no copy fit to publish until then), not queued nor leased.

    Pending photos are not the backlog's: their upload sent them already, and the requeue
    sweeper resends the ones whose message was lost.
    """
    photos = (
        Photo.objects.filter(
            Q(status=Photo.Status.DONE)
            # Failed only because no engine was installed yet: now there is one.
            | Q(status=Photo.Status.FAILED, last_error__startswith="engine unavailable"),
            _not_queued_nor_leased(timezone.now()),
            pk__gt=after_id,
        )
        .exclude(**_read_by(engine_version))
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(photos[:limit] if limit else photos)


def photo_ids_backlog_count(*, engine_version: str) -> int:
    return (
        Photo.objects.filter(
            Q(status=Photo.Status.DONE)
            | Q(status=Photo.Status.FAILED, last_error__startswith="engine unavailable")
        )
        .exclude(**_read_by(engine_version))
        .count()
    )


def _read_by(engine_version: str) -> dict[str, object]:
    """The photos this engine version has read, with the places to hide kept."""
    return {
        "status": Photo.Status.DONE,
        "model_version": engine_version,
        "plate_areas__isnull": False,
    }


def photo_ids_shadow(*, engine_version: str, limit: int) -> list[int]:
    """The latest photos read (by the installed engine) that `engine_version` has not read:
    what a candidate version reads in the shadow, to be compared before it is installed."""
    return list(
        Photo.objects.filter(status=Photo.Status.DONE)
        .exclude(reads__model_version=engine_version)
        .order_by(F("processed_at").desc(nulls_last=True), "-id")
        .values_list("id", flat=True)[:limit]
    )


def photo_ids_lease_expired(*, now: datetime) -> list[int]:
    """Photos a worker claimed and never finished: it died, or its message was dropped."""
    expired = Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)
    return list(
        Photo.objects.filter(expired, status=Photo.Status.PROCESSING, queued_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def photo_ids_unsent(*, older_than: datetime) -> list[int]:
    """Pending photos whose message never went out (the broker was down at upload)."""
    return list(
        Photo.objects.filter(
            status=Photo.Status.PENDING, queued_at__isnull=True, updated_at__lt=older_than
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def photo_ids_queued_before(*, before: datetime) -> list[int]:
    """Photos marked queued before `before`: lost if the broker's queues are empty now."""
    return list(
        Photo.objects.filter(queued_at__lt=before).order_by("id").values_list("id", flat=True)
    )


def photo_ids_stale(*, older_than: datetime) -> list[int]:
    """Everything the requeue would send now if the queues were empty (for people and tests)."""
    now = timezone.now()
    ids = set(photo_ids_lease_expired(now=now))
    ids.update(photo_ids_unsent(older_than=older_than))
    ids.update(photo_ids_queued_before(before=older_than))
    return sorted(ids)


def crosscheck_listing_ids_due(*, sent_before: datetime) -> list[int]:
    """Listings asked to be cross-checked, not checked since, not sent recently, and whose check
    has not raised `CROSSCHECK_MAX_FAILURES` times in a row."""
    not_recent = Q(sent_at__isnull=True) | Q(sent_at__lt=sent_before)
    return list(
        CrosscheckRequest.objects.due()
        .given_up(False)
        .filter(not_recent)
        .order_by("listing_id")
        .values_list("listing_id", flat=True)
    )


@dataclass(frozen=True)
class BacklogProgress:
    run: BacklogRun
    done: int
    failed: int
    remaining: int
    rate_per_s: float
    eta_s: float | None

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def eta(self) -> timedelta | None:
        return None if self.eta_s is None else timedelta(seconds=round(self.eta_s))


def backlog_progress(*, run: BacklogRun) -> BacklogProgress:
    """Count, rate and ETA of a backlog run, counted from the photos (nothing kept in sync).

    Only the photos the run sent count, and only those that still exist: a photo deleted
    meanwhile is neither read nor remaining (else `--follow` would wait for it for ever), and a
    fresh upload read meanwhile is not the run's. Read means read since the run started, so a
    newer model reading its photos later leaves the run as it ended.
    """
    since = Q(processed_at__gte=run.started_at)
    counts = run.photos.aggregate(
        sent=Count("pk"),
        done=Count("pk", filter=since & Q(status=Photo.Status.DONE)),
        failed=Count("pk", filter=since & Q(status=Photo.Status.FAILED)),
    )
    done, failed = counts["done"], counts["failed"]
    finished = done + failed
    elapsed = max((timezone.now() - run.started_at).total_seconds(), 1e-3)
    rate = finished / elapsed
    remaining = max(counts["sent"] - finished, 0)
    eta = remaining / rate if rate > 0 else None
    return BacklogProgress(
        run=run, done=done, failed=failed, remaining=remaining, rate_per_s=rate, eta_s=eta
    )


def backlog_run_latest() -> BacklogRun | None:
    return BacklogRun.objects.order_by("-started_at", "-id").first()


def reading_list_for_photo(*, photo_id: int) -> QuerySet[Reading]:
    return Reading.objects.filter(photo_id=photo_id).order_by("-created_at", "id")


@dataclass(frozen=True)
class CharacterRead:
    char: str
    confidence: float | None  # None where the engine kept no confidence per character
    unsure: bool  # under the page's bar: the place to look twice


# The bar for a reader whose manifest holds none (weights older than the fit).
UNSURE_BELOW_DEFAULT = 0.6


@functools.cache
def _unsure_bar_in(manifest: Path) -> float:
    try:
        return float(json.loads(manifest.read_text())["unsure_below"])
    except (OSError, ValueError, KeyError, TypeError):
        return UNSURE_BELOW_DEFAULT


def unsure_bar() -> float:
    """The character confidence under which a character read is shown unsure: fitted for the
    reader's weights (`python -m recognition.training.fit_unsure_bar`, the `unsure_below` of
    models/ocr/manifest.json), so a new reader brings its own. Readings of older model versions
    are judged by the same bar."""
    return _unsure_bar_in(Path(settings.PLATECHECK_MODELS_DIR) / "ocr" / "manifest.json")


def characters_read(
    *, text: str, confidences: Sequence[float], unsure_below: float | None = None
) -> list[CharacterRead]:
    """Each character of a reading (a photo's, a gate frame's) with its confidence, marked where
    it is under `unsure_below` (the reader's fitted bar, `unsure_bar()`, by default): a moderator
    or an operator sees which character the engine doubted (8 or B?) without reading numbers. A
    reading typed by a person has none."""
    bar = unsure_bar() if unsure_below is None else unsure_below
    if len(confidences) != len(text):
        return [CharacterRead(char, None, unsure=False) for char in text]
    return [
        CharacterRead(char, float(conf), unsure=conf < bar)
        for char, conf in zip(text, confidences, strict=True)
    ]
