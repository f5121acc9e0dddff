"""Writes for listings and photos. Views, the API, admin and commands all come through here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, transaction

from webapp.listings.models import Listing, ListingEdit, Photo
from webapp.listings.signals import listing_changed, photo_stored
from webapp.listings.validation import PhotoRejected, ValidatedPhoto, photo_validate
from webapp.storage import file_write

logger = logging.getLogger(__name__)


class ListingExists(Exception):
    """A listing holds this marketplace id already."""

    def __init__(self, listing: Listing) -> None:
        super().__init__(f"a listing with marketplace id {listing.marketplace_id!r} exists")
        self.listing = listing


class PhotosNotStored(Exception):
    """Valid photos that could not be kept (the photo store failed, or the listing was deleted
    meanwhile); nothing of the request was stored. `code` is stable, `reason` is for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


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
    """Create a listing and its photos atomically; one bad photo rejects the whole request.
    Raises ListingExists if a listing holds `marketplace_id` already (a partner's retry of a
    create whose answer it lost, or two creates racing): nothing is stored."""
    declared = declared or ListingDeclared()
    validated = _validate_all(photos)
    with _atomic_with_files(listing=None) as written:
        try:
            with transaction.atomic():  # the unique marketplace_id decides a race
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
        except IntegrityError:
            existing = Listing.objects.filter(marketplace_id=marketplace_id).first()
            if existing is None:
                raise
            raise ListingExists(existing) from None
        added = [_photo_store(listing=listing, validated=v, written=written) for v in validated]
    logger.info("listing %s created with %d photos", listing.marketplace_id, len(added))
    return listing, added


# What a seller declares, and may change while the listing lives.
DECLARED_FIELDS = (
    "declared_make",
    "declared_model",
    "declared_colour",
    "declared_year",
    "declared_plate",
    "declared_vin",
)


def listing_declared_update(
    *,
    listing_id: int,
    changes: Mapping[str, object],
    by: AbstractBaseUser | None,
    precondition: Callable[[Listing], None] | None = None,
) -> list[str]:
    """Set the declared fields given (DECLARED_FIELDS only); the names whose value changed,
    kept with their values before and after as a ListingEdit by `by` (the partner or staff
    member who sent them).

    A change asks for the listing's cross-check again in the same transaction, so its flags and
    badge follow what the seller now says (an open flag the change answers goes; a dismissed
    one reopens only if its evidence changed). Under the row lock the cross-check takes, so the
    two never interleave. `precondition` is called with the locked listing before anything is
    written: what it raises leaves the listing as it was (an API's If-Match). Raises
    Listing.DoesNotExist.
    """
    unknown = sorted(set(changes) - set(DECLARED_FIELDS))
    if unknown:
        raise ValueError(f"not a declared field: {', '.join(unknown)}")
    with transaction.atomic():
        listing = Listing.objects.select_for_update(no_key=True).get(pk=listing_id)
        if precondition is not None:
            precondition(listing)
        changed = declared_changed(listing=listing, changes=changes)
        if changed:
            before = {name: getattr(listing, name) for name in changed}
            for name in changed:
                setattr(listing, name, changes[name])
            listing.save(update_fields=[*changed, "updated_at"])
            ListingEdit.objects.create(
                listing=listing,
                by=by,
                changes={name: [before[name], changes[name]] for name in changed},
            )
            listing_changed.send(sender=Listing, listing_id=listing.pk)
    if changed:
        logger.info("listing %s: %s changed", listing.marketplace_id, ", ".join(changed))
    return changed


def declared_changed(*, listing: Listing, changes: Mapping[str, object]) -> list[str]:
    """The names in `changes` whose value differs from the listing's: what an update would
    change (and keep as the seller's edit)."""
    return [name for name, value in changes.items() if getattr(listing, name) != value]


def listing_delete(
    *, listing_id: int, precondition: Callable[[Listing], None] | None = None
) -> int:
    """Delete a listing with its photos, their readings, its flags and badge; the photos
    deleted. The moderators' audit entries stay (without the link). The photos' files are left
    to the orphaned-media sweep (webapp/ops/media.py): a file may be another listing's too (the
    names are the bytes' hash), and only the sweep's grace period is safe against an upload of
    the same bytes on its way. `precondition` as for listing_declared_update. Raises
    Listing.DoesNotExist."""
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing_id)
        if precondition is not None:
            precondition(listing)
        photos = Photo.objects.filter(listing=listing).count()
        listing.delete()
    logger.info("listing %s deleted with %d photos", listing.marketplace_id, photos)
    return photos


def photo_remove(
    *,
    listing_id: int,
    photo_id: int,
    by: AbstractBaseUser | None,
    precondition: Callable[[Listing], None] | None = None,
) -> None:
    """Remove one photo of a listing (the seller took it off): `photos_remove` of one. Raises
    Listing.DoesNotExist, or Photo.DoesNotExist if the listing holds no such photo."""
    photos_remove(listing_id=listing_id, photo_ids=[photo_id], by=by, precondition=precondition)


def photos_remove(
    *,
    listing_id: int,
    photo_ids: Sequence[int],
    by: AbstractBaseUser | None,
    precondition: Callable[[Listing], None] | None = None,
) -> None:
    """Remove photos of a listing (the seller took them off), with their readings; kept as one
    ListingEdit naming each photo and the plates read on it, and the listing's cross-check asked
    for again in the same transaction, under the listing's row lock as for an edit (a flag whose
    only evidence was one of these photos goes). The files are left to the orphaned-media sweep,
    as for listing_delete. Raises Listing.DoesNotExist, or Photo.DoesNotExist (nothing removed)
    if the listing holds not all of them."""
    with transaction.atomic():
        listing = Listing.objects.select_for_update(no_key=True).get(pk=listing_id)
        if precondition is not None:
            precondition(listing)
        plates: dict[int, set[str]] = {}
        for photo_id, plate in (
            Photo.objects.filter(pk__in=photo_ids, listing=listing)
            .values_list("pk", "readings__plate_text")
            .order_by("pk")
        ):
            plates.setdefault(photo_id, set()).update([plate] if plate else [])
        if len(plates) != len(set(photo_ids)):
            raise Photo.DoesNotExist(f"listing {listing.pk} holds not all of photos {photo_ids}")
        shown = ", ".join(
            f"photo {pk}" + (f" ({', '.join(sorted(read))})" if read else "")
            for pk, read in plates.items()
        )
        Photo.objects.filter(pk__in=plates).delete()
        ListingEdit.objects.create(listing=listing, by=by, changes={"photo_removed": [shown, None]})
        listing.save(update_fields=["updated_at"])
        listing_changed.send(sender=Listing, listing_id=listing.pk)
    logger.info("listing %s: %s removed", listing.marketplace_id, shown)


def photo_add(*, listing: Listing, upload: IO[bytes]) -> PhotoAdded:
    """Validate and store one photo; the same bytes on the same listing are stored only once."""
    validated = photo_validate(upload)
    with _atomic_with_files(listing=listing) as written:
        return _photo_store(listing=listing, validated=validated, written=written)


def photos_add(
    *, listing: Listing, uploads: Sequence[IO[bytes]], by: AbstractBaseUser | None
) -> list[PhotoAdded]:
    """Validate every upload first, then store them all or none. The photos new to the listing
    are kept as one ListingEdit by `by`, in the same transaction: the seller added them to a
    listing that existed, which moderators see beside the seller's other changes."""
    validated = _validate_all(uploads)
    with _atomic_with_files(listing=listing) as written:
        added = [_photo_store(listing=listing, validated=v, written=written) for v in validated]
        photos_added_keep(listing=listing, photos=[a.photo for a in added if a.created], by=by)
        return added


def photos_added_keep(
    *, listing: Listing, photos: Sequence[Photo], by: AbstractBaseUser | None
) -> None:
    """Keep photos new to a listing that existed as one ListingEdit by `by` (none if there are
    none): the API's `photos_add`, and a marketplace export ingested again, which stores its
    photos one at a time so that a bad one is skipped, not the listing."""
    if photos:
        shown = ", ".join(f"photo {photo.pk}" for photo in photos)
        ListingEdit.objects.create(listing=listing, by=by, changes={"photo_added": [None, shown]})


def _validate_all(uploads: Sequence[IO[bytes]]) -> list[ValidatedPhoto]:
    validated = []
    for number, upload in enumerate(uploads, start=1):
        try:
            validated.append(photo_validate(upload))
        except PhotoRejected as exc:
            name = getattr(upload, "name", None) or f"photo {number}"
            raise PhotoRejected(exc.code, f"{name}: {exc.reason}") from exc
    return validated


@contextmanager
def _atomic_with_files(*, listing: Listing | None) -> Iterator[list[Photo]]:
    """transaction.atomic() for photo rows and their files. The files of the photos written in
    the block (`_photo_store` lists them) are deleted again when the block raises or its commit
    fails, so no file outlives a rolled-back row; a failed photo store, or `listing` deleted
    meanwhile (its foreign key fails), becomes PhotosNotStored."""
    written: list[Photo] = []
    try:
        with transaction.atomic():
            yield written
            # The foreign keys are deferred to the outermost commit: inside a caller's
            # transaction (the admin's add view) that commit comes after we return, where a
            # listing deleted meanwhile would fail as a server error and leave the files. Checked
            # here, it fails in this block; the check also locks the listing until the commit.
            # (SQLite checks the tables it is given, all of them by default; PostgreSQL all
            # the deferred constraints of the transaction either way.)
            transaction.get_connection().check_constraints(table_names=[Photo._meta.db_table])
    except BaseException as exc:
        _orphans_delete(written)
        not_stored = _not_stored(exc, listing=listing)
        if not_stored is None:
            raise
        raise not_stored from exc


def _orphans_delete(photos: list[Photo]) -> None:
    """Deletes the files of the photos whose rows the database does not hold. A row that is
    there (an error after the commit) keeps its file; so does every photo when the database
    cannot say: a stray file is better than a photo without one."""
    if not photos:
        return
    try:
        kept = set(
            Photo.objects.filter(pk__in=[p.pk for p in photos if p.pk]).values_list("pk", flat=True)
        )
    except DatabaseError:
        logger.exception("cannot tell which of %d photo files to delete: kept", len(photos))
        return
    for photo in photos:
        if photo.pk in kept:
            continue
        try:
            photo.image.delete(save=False)
        except OSError:
            logger.exception("could not delete %s, left by a failed upload", photo.image.name)


def _not_stored(exc: BaseException, *, listing: Listing | None) -> PhotosNotStored | None:
    if isinstance(exc, OSError):
        # The path and the OS's words stay in the log: partners get what they can act on.
        logger.error("the photo store failed: %s", exc)
        return PhotosNotStored(
            "storage_unavailable", "the photos could not be stored now; nothing was kept"
        )
    if (
        isinstance(exc, IntegrityError)
        and listing is not None
        and not Listing.objects.filter(pk=listing.pk).exists()
    ):
        return PhotosNotStored(
            "listing_deleted", "the listing was deleted while its photos were being stored"
        )
    return None


def _photo_store(
    *, listing: Listing, validated: ValidatedPhoto, written: list[Photo]
) -> PhotoAdded:
    existing = Photo.objects.filter(listing=listing, sha256=validated.sha256).first()
    if existing is not None:
        return PhotoAdded(photo=existing, created=False)
    photo = Photo(
        listing=listing,
        sha256=validated.sha256,
        width=validated.width,
        height=validated.height,
    )
    file_write(file=photo.image, name=f"upload.{validated.extension}", content=validated.content)
    written.append(photo)
    try:
        # A concurrent upload of the same bytes may win the unique constraint.
        with transaction.atomic():
            photo.save()
    except IntegrityError:
        written.remove(photo)
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
    "PhotosNotStored",
    "listing_create",
    "photo_add",
    "photo_enqueue_recognition",
    "photos_add",
    "photos_added_keep",
    "photos_remove",
]
