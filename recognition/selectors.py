"""Reads for recognition: which photos need the engine, and their readings."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from recognition.models import Reading
from webapp.listings.models import Photo


def photo_ids_backlog(*, engine_version: str, limit: int | None = None) -> list[int]:
    """Photos not yet read by this engine version (new, or read by an older model)."""
    photos = (
        Photo.objects.filter(
            Q(status__in=[Photo.Status.DONE, Photo.Status.PENDING])
            # Failed only because no engine was installed yet: now there is one.
            | Q(status=Photo.Status.FAILED, last_error__startswith="engine unavailable")
        )
        .exclude(status=Photo.Status.DONE, model_version=engine_version)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(photos[:limit] if limit else photos)


def photo_ids_stale(*, older_than: datetime) -> list[int]:
    """Pending or processing photos untouched since `older_than`: their message was lost."""
    return list(
        Photo.objects.filter(
            Q(status=Photo.Status.PENDING) | Q(status=Photo.Status.PROCESSING),
            updated_at__lt=older_than,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def reading_list_for_photo(*, photo_id: int) -> QuerySet[Reading]:
    return Reading.objects.filter(photo_id=photo_id).order_by("-created_at", "id")
