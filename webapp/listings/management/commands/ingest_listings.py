from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from webapp.listings.ingest import listings_read
from webapp.listings.ingest_services import IngestCounts, listing_ingest, listing_ingest_preview


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
        counts = IngestCounts()
        step = listing_ingest_preview if options["dry_run"] else listing_ingest
        total = sum(len(item.photos) for item in listings)
        with tqdm(total=total, unit="photo", disable=bool(options["no_progress"])) as bar:
            for item in listings:
                step(item=item, owner=owner, counts=counts, prune=bool(options["prune"]),
                     progress=bar.update)  # fmt: skip
        self.stdout.write(
            ("dry run, nothing written: would have " if options["dry_run"] else "")
            + "ingested {listings} listings: {photos} new photos, {duplicates} already there, "
            "{rejected} rejected{pruned}; {updated} listings updated, {refused} held by another "
            "partner left as they were".format(
                **asdict(counts),
                pruned=f", {counts.removed} removed" if options["prune"] else "",
            )
        )

    def _owner(self, username: object):  # type: ignore[no-untyped-def]
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc
