from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from webapp.ops.retention import (
    DELIVERIES,
    FRAMES,
    REQUESTS,
    SETTINGS,
    Purged,
    retention_plan,
    retention_purge,
)

_WHAT = {
    FRAMES: "gate frames",
    REQUESTS: "gate request logs",
    DELIVERIES: "finished webhook deliveries",
}
_KEPT = {FRAMES: "still being read", DELIVERIES: "not delivered nor given up yet"}


class Command(BaseCommand):
    help = (
        "Delete what is older than its retention: gate frames (row and file; passages stay), "
        "gate request logs, finished webhook deliveries with their attempts. Beat runs the "
        "same purge daily; --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = retention_plan()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["dry_run"]:
            for purged in plan:
                self.stdout.write(self._summary(purged, dry_run=True))
            self.stdout.write("dry run: nothing was deleted")
            return
        total = sum(purged.expired for purged in plan)
        with tqdm(
            total=total, unit=" rows", desc="purge", disable=bool(options["no_progress"])
        ) as bar:
            purged_all = retention_purge(plan=plan, on_batch=bar.update)
        for purged in purged_all:
            self.stdout.write(self._summary(purged, dry_run=False))

    @staticmethod
    def _summary(purged: Purged, *, dry_run: bool) -> str:
        what = _WHAT[purged.kind]
        if purged.cutoff is None:
            return f"{what}: kept for ever ({SETTINGS[purged.kind]}=0)"
        text = f"{what} older than {purged.days} days (before {purged.cutoff:%Y-%m-%d %H:%M %Z}): "
        if dry_run:
            text += f"{purged.expired} would be deleted"
        else:
            text += f"{purged.deleted} deleted"
            if purged.kind == DELIVERIES:
                text += f" with {purged.attempts_deleted} attempts"
            if purged.kind == FRAMES:
                text += (
                    f", {purged.files_deleted} files deleted, {purged.files_missing} already "
                    f"gone, {purged.files_failed} could not be deleted"
                )
        if purged.kept:
            text += f"; {purged.kept} as old kept, {_KEPT[purged.kind]}"
        return text
