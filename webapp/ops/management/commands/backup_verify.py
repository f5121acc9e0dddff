from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.ops.backup import backups_in
from webapp.ops.backup_verify import backup_verify


class Command(BaseCommand):
    help = (
        "Check a backup by restoring it into a scratch database and comparing each table's "
        "rows, the dump's sha256 and the media files with its manifest (default: the newest "
        "in BACKUP_DIR)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", nargs="?", type=Path)
        parser.add_argument("--dir", type=Path, default=settings.BACKUP_DIR)

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options["folder"]
        if folder is None:
            found = backups_in(options["dir"]) if options["dir"] else []
            if not found:
                raise CommandError(f"no complete backup in {options['dir']}")
            folder = found[-1]
        verified = backup_verify(folder)
        if not verified.ok:
            raise CommandError(verified.summary())
        self.stdout.write(verified.summary())
