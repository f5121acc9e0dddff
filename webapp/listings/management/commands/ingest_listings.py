from __future__ import annotations

import logging
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from webapp.listings import services
from webapp.listings.ingest import ListingToIngest, listings_read
from webapp.listings.models import Listing, Photo
from webapp.listings.validation import PhotoRejected, photo_validate

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Ingest listings with photos from a folder or a CSV file (see webapp/listings/ingest.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="A CSV file, or a folder of listings.")
        parser.add_argument("--owner", help="Username of the partner the listings belong to.")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Take off each listing the photos its export no longer lists (kept as the "
            "seller's edit). A listing with a photo that could not be read keeps all of its own.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what the ingest would do (listings made and updated, photos added, "
            "rejected and, with --prune, taken off) and write nothing.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: object, **options: object) -> None:
        source = options["source"]
        assert isinstance(source, Path)
        if not source.exists():
            raise CommandError(f"{source} does not exist")
        owner = self._owner(options.get("owner"))
        try:
            listings = listings_read(source)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        total = sum(len(item.photos) for item in listings)
        counts = dict.fromkeys(
            ("listings", "updated", "refused", "photos", "duplicates", "rejected", "removed"), 0
        )
        step = self._preview if options["dry_run"] else self._ingest
        with tqdm(total=total, unit="photo", disable=bool(options["no_progress"])) as bar:
            for item in listings:
                step(item, owner=owner, counts=counts, bar=bar, prune=options["prune"])
        self.stdout.write(
            ("dry run, nothing written: would have " if options["dry_run"] else "")
            + "ingested {listings} listings: {photos} new photos, {duplicates} already there, "
            "{rejected} rejected{pruned}; {updated} listings updated, {refused} held by another "
            "partner left as they were".format(
                **counts, pruned=", {removed} removed".format(**counts) if options["prune"] else ""
            )
        )

    def _owner(self, username: object):  # type: ignore[no-untyped-def]
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc

    def _ingest(  # type: ignore[no-untyped-def]
        self, item: ListingToIngest, *, owner, counts: dict[str, int], bar: tqdm, prune: object
    ) -> None:
        """A new listing is created; one ingested before takes what the source now says of its
        declared fields (kept as the seller's edit, its cross-check asked again) and its new
        photos (kept as one edit), and with `prune` loses the photos the source no longer lists
        (one edit more), unless another partner holds it."""
        listing = Listing.objects.filter(marketplace_id=item.marketplace_id).first()
        existed = listing is not None
        if listing is None:
            try:
                listing, _ = services.listing_create(
                    marketplace_id=item.marketplace_id, owner=owner, declared=item.declared
                )
                counts["listings"] += 1
            except services.ListingExists as exc:  # created by another process meanwhile
                listing, existed = exc.listing, True
        if existed and owner is not None and listing.owner_id not in (None, owner.pk):
            counts["refused"] += 1
            bar.update(len(item.photos))
            logger.warning("%s: held by another partner, left as it is", item.marketplace_id)
            return
        if existed and services.listing_declared_update(
            listing_id=listing.pk, changes=item.declared_changes(), by=owner
        ):
            counts["updated"] += 1
        new, listed, unread = [], set(), 0
        for path in item.photos:
            bar.update(1)
            try:
                with path.open("rb") as handle:
                    added = services.photo_add(listing=listing, upload=handle)
            except (PhotoRejected, services.PhotosNotStored, OSError) as exc:
                counts["rejected"] += 1
                unread += 1
                logger.warning("%s: %s rejected: %s", item.marketplace_id, path.name, exc)
                continue
            counts["photos" if added.created else "duplicates"] += 1
            listed.add(added.photo.sha256)
            if added.created:
                new.append(added.photo)
        if existed:
            services.photos_added_keep(listing=listing, photos=new, by=owner)
            if prune and item.photos_named:
                counts["removed"] += self._prune(listing, listed=listed, unread=unread, by=owner)

    def _prune(self, listing: Listing, *, listed: set[str], unread: int, by) -> int:  # type: ignore[no-untyped-def]
        """Take off the listing's photos that are none of the `listed` bytes; none if `unread`
        of the export's photos could not be read (one of them may be a photo the listing holds)."""
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
        except (Listing.DoesNotExist, Photo.DoesNotExist):  # changed meanwhile: next export
            logger.warning("%s: changed while pruned, its photos left", listing.marketplace_id)
            return 0
        return len(gone)

    def _preview(  # type: ignore[no-untyped-def]
        self, item: ListingToIngest, *, owner, counts: dict[str, int], bar: tqdm, prune: object
    ) -> None:
        """What `_ingest` would do with `item`, counted as it counts, with nothing written: each
        photo is validated as an upload is, and matched by its bytes to the listing's photos."""
        listing = Listing.objects.filter(marketplace_id=item.marketplace_id).first()
        if listing is not None and owner is not None and listing.owner_id not in (None, owner.pk):
            counts["refused"] += 1
            bar.update(len(item.photos))
            return
        if listing is None:
            counts["listings"] += 1
        elif any(getattr(listing, k) != v for k, v in item.declared_changes().items()):
            counts["updated"] += 1
        held = set() if listing is None else set(listing.photos.values_list("sha256", flat=True))
        listed, unread = set(), 0
        for path in item.photos:
            bar.update(1)
            try:
                with path.open("rb") as handle:
                    sha256 = photo_validate(handle).sha256
            except (PhotoRejected, OSError) as exc:
                counts["rejected"] += 1
                unread += 1
                logger.warning("%s: %s would be rejected: %s", item.marketplace_id, path.name, exc)
                continue
            counts["duplicates" if sha256 in held | listed else "photos"] += 1
            listed.add(sha256)
        if listing is not None and prune and item.photos_named and not unread:
            counts["removed"] += len(held - listed)
