"""Writes for listings and photos. Views, the API, admin and commands all come through here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from webapp.listings.models import Listing, Photo
from webapp.listings.signals import photo_stored
from webapp.listings.validation import PhotoRejected, ValidatedPhoto, photo_validate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoAdded:
    photo: Photo
    created: bool  # False when the same bytes were already on the listing


@dataclass(frozen=True)
class ListingDeclared:
    make: str = ""
    model: str = ""
    colour: str = ""
    year: int | None = None
    plate: str = ""
    vin: str = ""


def listing_create(
    *,
    marketplace_id: str,
    owner: AbstractBaseUser | None,
    declared: ListingDeclared | None = None,
    photos: Sequence[IO[bytes]] = (),
) -> tuple[Listing, list[PhotoAdded]]:
    """Create a listing and its photos atomically; one bad photo rejects the whole request."""
    declared = declared or ListingDeclared()
    validated = _validate_all(photos)
    with transaction.atomic():
        listing = Listing.objects.create(
            marketplace_id=marketplace_id,
            owner=owner,
            declared_make=declared.make,
            declared_model=declared.model,
            declared_colour=declared.colour,
            declared_year=declared.year,
            declared_plate=declared.plate,
            declared_vin=declared.vin,
        )
        added = [_photo_store(listing=listing, validated=item) for item in validated]
    logger.info("listing %s created with %d photos", listing.marketplace_id, len(added))
    return listing, added


def photo_add(*, listing: Listing, upload: IO[bytes]) -> PhotoAdded:
    """Validate and store one photo; the same bytes on the same listing are stored only once."""
    validated = photo_validate(upload)
    with transaction.atomic():
        return _photo_store(listing=listing, validated=validated)


def photos_add(*, listing: Listing, uploads: Sequence[IO[bytes]]) -> list[PhotoAdded]:
    """Validate every upload first, then store them all or none."""
    validated = _validate_all(uploads)
    with transaction.atomic():
        return [_photo_store(listing=listing, validated=item) for item in validated]


def _validate_all(uploads: Sequence[IO[bytes]]) -> list[ValidatedPhoto]:
    validated = []
    for number, upload in enumerate(uploads, start=1):
        try:
            validated.append(photo_validate(upload))
        except PhotoRejected as exc:
            name = getattr(upload, "name", None) or f"photo {number}"
            raise PhotoRejected(exc.code, f"{name}: {exc.reason}") from exc
    return validated


def _photo_store(*, listing: Listing, validated: ValidatedPhoto) -> PhotoAdded:
    existing = Photo.objects.filter(listing=listing, sha256=validated.sha256).first()
    if existing is not None:
        return PhotoAdded(photo=existing, created=False)
    photo = Photo(
        listing=listing,
        sha256=validated.sha256,
        width=validated.width,
        height=validated.height,
    )
    photo.image.save(f"upload.{validated.extension}", ContentFile(validated.content), save=False)
    try:
        # A concurrent upload of the same bytes may win the unique constraint.
        with transaction.atomic():
            photo.save()
    except IntegrityError:
        photo.image.delete(save=False)
        existing = Photo.objects.get(listing=listing, sha256=validated.sha256)
        return PhotoAdded(photo=existing, created=False)
    photo_enqueue_recognition(photo_id=photo.pk)
    return PhotoAdded(photo=photo, created=True)


def photo_enqueue_recognition(*, photo_id: int) -> None:
    """Send the photo to recognition (the chain, ``webapp.checks.chain``) once the surrounding
    transaction commits."""

    # robust: the photo is saved even when the broker is down; requeue_stale_photos resends it.
    # The receiver marks the photo queued first, so no sweep or backlog sends it twice.
    def enqueue() -> None:
        photo_stored.send(sender=Photo, photo_id=photo_id)

    transaction.on_commit(enqueue, robust=True)


__all__ = [
    "ListingDeclared",
    "PhotoAdded",
    "PhotoRejected",
    "listing_create",
    "photo_add",
    "photo_enqueue_recognition",
    "photos_add",
]
