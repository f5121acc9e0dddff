"""Ingesting the marketplace's export (`manage.py ingest_listings`): each listing read from it
(`webapp.listings.ingest`, pure) made, updated or, with `prune`, relieved of the photos the
export no longer lists, through the listings' services; or, for a dry run, only counted.

Both walks count the same things the same way, so a dry run's summary is the ingest's."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TypeVar

from django.contrib.auth.models import AbstractBaseUser

from webapp.listings import services
from webapp.listings.ingest import ListingToIngest
from webapp.listings.models import Listing, Photo
from webapp.listings.validation import PhotoRejected, photo_validate

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]  # told each photo (or skipped listing's photos) dealt with
T = TypeVar("T")


@dataclass
class IngestCounts:
    listings: int = 0  # made
    updated: int = 0  # declared fields changed
    refused: int = 0  # held by another partner: left as they were
    photos: int = 0  # new to their listing
    duplicates: int = 0  # the same bytes already on the listing
    rejected: int = 0  # unreadable, not a photo, or refused by the photo store
    removed: int = 0  # taken off by `prune`


def listing_ingest(
    *,
    item: ListingToIngest,
    owner: AbstractBaseUser | None,
    counts: IngestCounts,
    prune: bool = False,
    progress: Progress = lambda n: None,
) -> None:
    """A new listing is created; one ingested before takes what the source now says of its
    declared fields (kept as the seller's edit, its cross-check asked again) and its new photos
    (kept as one edit), and with `prune` loses the photos the source no longer lists (one edit
    more), unless another partner holds it."""
    listing = Listing.objects.filter(marketplace_id=item.marketplace_id).first()
    existed = listing is not None
    if listing is None:
        try:
            listing, _ = services.listing_create(
                marketplace_id=item.marketplace_id, owner=owner, declared=item.declared
            )
            counts.listings += 1
        except services.ListingExists as exc:  # created by another process meanwhile
            listing, existed = exc.listing, True
    if existed and _held_by_another(listing, owner):
        counts.refused += 1
        progress(len(item.photos))
        logger.warning("%s: held by another partner, left as it is", item.marketplace_id)
        return
    if existed and services.listing_declared_update(
        listing_id=listing.pk, changes=item.declared_changes(), by=owner
    ):
        counts.updated += 1
    added = _each_photo(
        item, counts, progress, lambda upload: services.photo_add(listing=listing, upload=upload)
    )
    new = [a.photo for a in added if a.created]
    counts.photos += len(new)
    counts.duplicates += len(added) - len(new)
    if existed:
        services.photos_added_keep(listing=listing, photos=new, by=owner)
        if prune and item.photos_named:
            listed = {a.photo.sha256 for a in added}
            unread = len(item.photos) - len(added)
            counts.removed += _prune(listing, listed=listed, unread=unread, by=owner)


def listing_ingest_preview(
    *,
    item: ListingToIngest,
    owner: AbstractBaseUser | None,
    counts: IngestCounts,
    prune: bool = False,
    progress: Progress = lambda n: None,
) -> None:
    """What `listing_ingest` would do with `item`, counted as it counts, with nothing written:
    each photo is validated as an upload is, and matched by its bytes to the listing's photos."""
    listing = Listing.objects.filter(marketplace_id=item.marketplace_id).first()
    if listing is not None and _held_by_another(listing, owner):
        counts.refused += 1
        progress(len(item.photos))
        return
    if listing is None:
        counts.listings += 1
    elif services.declared_changed(listing=listing, changes=item.declared_changes()):
        counts.updated += 1
    held = set() if listing is None else set(listing.photos.values_list("sha256", flat=True))
    read = _each_photo(item, counts, progress, lambda upload: photo_validate(upload).sha256)
    listed = set(read)
    counts.photos += len(listed - held)
    counts.duplicates += len(read) - len(listed - held)
    if listing is not None and prune and item.photos_named and len(read) == len(item.photos):
        counts.removed += len(held - listed)


def _each_photo(
    item: ListingToIngest,
    counts: IngestCounts,
    progress: Progress,
    act: Callable[[IO[bytes]], T],
) -> list[T]:
    """`act` on each of the item's photo files, open; a file that cannot be read, or that
    `act` refuses (not a photo, the photo store down), is counted rejected and skipped."""
    done = []
    for path in item.photos:
        progress(1)
        try:
            with path.open("rb") as handle:
                done.append(act(handle))
        except (PhotoRejected, services.PhotosNotStored, OSError) as exc:
            counts.rejected += 1
            logger.warning("%s: %s rejected: %s", item.marketplace_id, path.name, exc)
    return done


def _held_by_another(listing: Listing, owner: AbstractBaseUser | None) -> bool:
    return owner is not None and listing.owner_id not in (None, owner.pk)


def _prune(listing: Listing, *, listed: set[str], unread: int, by: AbstractBaseUser | None) -> int:
    """Take off the listing's photos that are none of the `listed` bytes; none if `unread` of
    the export's photos could not be read (one of them may be a photo the listing holds)."""
    gone = list(
        Photo.objects.filter(listing=listing)
        .exclude(sha256__in=listed)
        .values_list("pk", flat=True)
    )
    if not gone:
        return 0
    if unread:
        logger.warning(
            "%s: %d photos not listed kept: %d of the export's photos could not be read",
            listing.marketplace_id, len(gone), unread,
        )  # fmt: skip
        return 0
    try:
        services.photos_remove(listing_id=listing.pk, photo_ids=gone, by=by)
    except (Listing.DoesNotExist, Photo.DoesNotExist):  # changed meanwhile: the next export
        logger.warning("%s: changed while pruned, its photos left", listing.marketplace_id)
        return 0
    return len(gone)
