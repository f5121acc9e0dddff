from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat
from tqdm import tqdm

from webapp.ops.media import FolderSwept, Orphan, media_orphans_sweep


def _size(n: int) -> str:
    # Django's own (1024-based, "bytes"/"KB"/"MB"...), with plain spaces for the terminal.
    return filesizeformat(n).replace("\xa0", " ")


class Command(BaseCommand):
    help = (
        "Delete the files under the upload folders (photos/, gates/) that no row references and "
        "that are older than --older-than hours (default MEDIA_ORPHANS_GRACE_HOURS), printing "
        "each one. Beat runs the same sweep daily; --dry-run only lists them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--older-than",
            type=float,
            metavar="HOURS",
            help="Only files older than this (default MEDIA_ORPHANS_GRACE_HOURS; at least 1 "
            "unless --dry-run).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["older_than"]
        if hours is None:
            hours = settings.MEDIA_ORPHANS_GRACE_HOURS
        dry_run = bool(options["dry_run"])
        verb = "would delete" if dry_run else "deleted"

        def report(orphan: Orphan) -> None:
            what = f"could not delete ({orphan.error})" if orphan.error else verb
            # Written around the bar, so the bar never splits a line.
            with tqdm.external_write_mode():
                self.stdout.write(
                    f"{what} {orphan.name} ({_size(orphan.size)}, "
                    f"{orphan.age.total_seconds() / 3600:.1f} h old)"
                )

        with tqdm(unit=" files", desc="media", disable=bool(options["no_progress"])) as bar:
            try:
                swept = media_orphans_sweep(
                    older_than=timedelta(hours=hours),
                    dry_run=dry_run,
                    on_file=lambda: bar.update(1),
                    on_orphan=report,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        for folder in swept:
            self.stdout.write(self._summary(folder, hours=hours, dry_run=dry_run))
        if dry_run:
            self.stdout.write("dry run: nothing was deleted")

    @staticmethod
    def _summary(folder: FolderSwept, *, hours: float, dry_run: bool) -> str:
        if folder.refused:
            return f"{folder.folder}/: not swept: {folder.refused}"
        text = (
            f"{folder.folder}/: {folder.files} files, {folder.young} younger than {hours:g} h, "
            f"{folder.referenced} with a row, {folder.orphans} without: "
        )
        if dry_run:
            return text + f"{folder.orphans} would be deleted ({_size(folder.orphan_bytes)})"
        text += f"{folder.deleted} deleted ({_size(folder.deleted_bytes)})"
        return text + (f", {folder.failed} could not be deleted" if folder.failed else "")
