from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.fetch import FetchBusy, register_fetch
from registry.models import RegisterFetch


class Command(BaseCommand):
    help = (
        "Look at the register's published source once (REGISTER_SOURCE_URL: a file, or a CKAN "
        "dataset's package_show URL) and import what is new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="The source, instead of REGISTER_SOURCE_URL.")
        parser.add_argument(
            "--files", type=int, help="At most this many files (default REGISTER_FETCH_FILES)."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Fetch without validators and import even a file imported before.",
        )
        parser.add_argument(
            "--no-crosscheck",
            action="store_true",
            help="Do not re-check the listings whose plates got new records.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"] or settings.REGISTER_SOURCE_URL
        if not url:
            raise CommandError("no source: set REGISTER_SOURCE_URL or give --url")
        try:
            rows = register_fetch(
                url=url,
                force=options["force"],
                max_files=options["files"],
                enqueue_crosscheck=not options["no_crosscheck"],
            )
        except FetchBusy as exc:
            raise CommandError(str(exc)) from exc
        if not rows:
            self.stdout.write("nothing new at the source")
        for row in rows:
            self.stdout.write(_line(row))
        if any(row.outcome == RegisterFetch.Outcome.FAILED for row in rows):
            raise CommandError("the fetch failed: nothing of the failed file was imported")


def _line(row: RegisterFetch) -> str:
    run = row.import_run
    if row.outcome == RegisterFetch.Outcome.IMPORTED and run is not None:
        return (
            f"{row.file_url}: imported in run {run.pk} ({run.status}): read {run.rows_read:,},"
            f" new {run.rows_inserted:,}, rejected {run.rows_rejected:,},"
            f" listings re-checked {run.listings_touched:,}"
        )
    detail = {
        RegisterFetch.Outcome.NOT_MODIFIED: "not modified since the last fetch",
        RegisterFetch.Outcome.UNCHANGED: "the same bytes as a file imported before",
    }.get(row.outcome, row.error)
    return f"{row.file_url}: {row.get_outcome_display().lower()}: {detail}"
