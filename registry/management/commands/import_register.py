from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.importers import RegisterFormatError
from registry.services import register_import


class Command(BaseCommand):
    help = "Import vehicle register files (.csv or .zip) of the Ministry of Internal Affairs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--encoding",
            choices=["utf-8", "utf-8-sig", "cp1251"],
            help="Skip detection and read the files in this encoding.",
        )
        parser.add_argument(
            "--force", action="store_true", help="Parse again even if this exact file was imported."
        )
        parser.add_argument(
            "--no-crosscheck",
            action="store_true",
            help="Do not re-check the listings whose plates got new records.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = [str(path) for path in options["files"] if not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        failed = 0
        for path in options["files"]:
            try:
                run = register_import(
                    path=path,
                    encoding=options["encoding"],
                    force=options["force"],
                    progress=not options["no_progress"] and options["verbosity"] > 0,
                    enqueue_crosscheck=not options["no_crosscheck"],
                )
            except RegisterFormatError as exc:
                self.stderr.write(self.style.ERROR(f"{path.name}: {exc}"))
                failed += 1
                continue
            seconds = run.duration_seconds or 0.0
            rate = run.rows_read / seconds if seconds else 0.0
            self.stdout.write(
                self.style.SUCCESS(f"{path.name}: run {run.pk} {run.status}")
                + f" [{run.variant or '-'} {run.encoding or '-'}] read {run.rows_read:,},"
                f" new {run.rows_inserted:,}, duplicates {run.rows_duplicate:,},"
                f" rejected {run.rows_rejected:,}, listings re-checked {run.listings_touched:,}"
                f" in {seconds:.1f}s ({rate:,.0f} rows/s)"
                + (f" — {run.error}" if run.error else "")
            )
        if failed:
            raise CommandError(f"{failed} file(s) could not be imported")
