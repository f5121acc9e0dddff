from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.ops.backup import BackupFailed, backup_create
from webapp.ops.backup_verify import backup_verify


class Command(BaseCommand):
    help = (
        "Back up the database and the media store into a new folder of BACKUP_DIR (or --dir), "
        "keeping the newest BACKUP_KEEP (or --keep); --verify restores it to check it. Beat "
        "runs the same daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=settings.BACKUP_DIR)
        parser.add_argument("--keep", type=int, default=settings.BACKUP_KEEP)
        parser.add_argument(
            "--verify", action="store_true", help="Restore it into a scratch database, compare."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dir"] is None:
            raise CommandError("BACKUP_DIR is empty: give --dir")
        try:
            row = backup_create(root=options["dir"], keep=options["keep"])
        except (BackupFailed, ValueError) as exc:
            raise CommandError(f"no backup made: {exc}") from exc
        self.stdout.write(
            f"backup {row.folder}: database {row.database_bytes:,} bytes, "
            f"{row.media_files:,} media files ({row.media_bytes:,} bytes; "
            f"{row.media_linked:,} unchanged since the last backup, linked)"
        )
        if options["verify"]:
            verified = backup_verify(Path(row.folder))
            if not verified.ok:
                raise CommandError(verified.summary())
            self.stdout.write(verified.summary())
