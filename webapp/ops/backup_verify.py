"""A backup checked by restoring it: into a scratch database (PostgreSQL) or by opening its copy
(SQLite), every table's row count compared with the manifest's, the dump's sha256 and the media
files' count and bytes too. The scratch database is dropped afterwards, whatever happened."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.utils import timezone

from recognition.pipeline.weights import sha256_file
from webapp.ops.backup import (
    MANIFEST,
    MEDIA,
    media_files,
    pg_connect,
    pg_conninfo,
    pg_env,
    sqlite_counts,
    table_counts,
)
from webapp.ops.models import Backup

logger = logging.getLogger(__name__)

SCRATCH_SUFFIX = "_backup_verify"


@dataclass
class Verified:
    folder: Path
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if not self.ok:
            return f"{self.folder} failed its check:\n  " + "\n  ".join(self.problems)
        return (
            f"{self.folder}: restored, {self.tables} tables and {self.rows:,} rows as dumped; "
            "the dump and the media files as written"
        )


def backup_verify(folder: Path) -> Verified:
    result = Verified(folder=folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        result.problems.append(f"no readable {MANIFEST}: not a complete backup ({exc})")
        return _recorded(result)
    dump = folder / str(manifest["database_file"])
    if not dump.is_file():
        result.problems.append(f"{dump.name} is missing")
    elif sha256_file(dump) != manifest["database_sha256"]:
        result.problems.append(f"{dump.name} is not the file the backup wrote (sha256 differs)")
    _media_check(folder / MEDIA, manifest, result)
    if not result.problems:
        expected: dict[str, int] = manifest["row_counts"]
        try:
            restored = _restored_counts(dump, str(manifest["database"]))
        except (OSError, subprocess.SubprocessError, psycopg.Error, sqlite3.Error) as exc:
            result.problems.append(f"the restore failed: {exc}")
        else:
            _counts_compare(expected, restored, result)
    return _recorded(result)


def _media_check(media: Path, manifest: dict[str, object], result: Verified) -> None:
    files = size = 0
    for _path, stat in media_files(media):
        files += 1
        size += stat.st_size
    if (files, size) != (manifest["media_files"], manifest["media_bytes"]):
        result.problems.append(
            f"media: {files} files, {size} bytes; the backup wrote {manifest['media_files']} "
            f"files, {manifest['media_bytes']} bytes"
        )


def _counts_compare(expected: dict[str, int], restored: dict[str, int], result: Verified) -> None:
    for table in sorted(set(expected) | set(restored)):
        want, got = expected.get(table), restored.get(table)
        if want != got:
            result.problems.append(f"table {table}: {got} rows restored, {want} dumped")
    result.tables = len(restored)
    result.rows = sum(restored.values())


def _restored_counts(dump: Path, vendor: str) -> dict[str, int]:
    if vendor == "sqlite":
        copy = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        try:
            (check,) = copy.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            return sqlite_counts(copy)
        finally:
            copy.close()
    scratch = f"{settings.DATABASES['default']['NAME']}{SCRATCH_SUFFIX}"[:63]
    with pg_connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        done = subprocess.run(  # noqa: S603 (our own arguments, no shell)
            [
                shutil.which("pg_restore") or "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={pg_conninfo(scratch)}",
                str(dump),
            ],
            env=pg_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise subprocess.SubprocessError(done.stderr.strip()[-500:])
        with pg_connect(scratch) as restored:
            return table_counts(restored)
    finally:
        with pg_connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _recorded(result: Verified) -> Verified:
    Backup.objects.filter(folder=str(result.folder)).update(
        verified_at=timezone.now(),
        verify_ok=result.ok,
        verify_error="\n".join(result.problems)[:5000],
    )
    if result.ok:
        logger.info(
            "backup %s verified: %d tables, %d rows restored as dumped",
            result.folder, result.tables, result.rows,
        )  # fmt: skip
    else:
        logger.error("backup %s failed its check: %s", result.folder, "; ".join(result.problems))
    return result
