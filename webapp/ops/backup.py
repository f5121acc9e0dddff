"""Backups of the database and the media store, one folder each, proven by restoring them.

    backup_create(root=..., keep=...)   # <root>/<UTC stamp>/, the oldest beyond `keep` deleted
    backup_verify(folder)               # webapp/ops/backup_verify.py: restore and compare

A backup folder holds:
- `db.dump` (PostgreSQL: `pg_dump --format=custom` of one snapshot) or `db.sqlite3` (SQLite's
  online backup, the demo);
- `media/`, every file under MEDIA_ROOT. A file the previous backup holds with the same size
  and modification time is a hard link to it, so each night costs the day's new files: photos
  are named by their content and gate frames by the device's frame id, and neither is
  rewritten;
- `manifest.json`: when, each table's row count in the dumped snapshot, the migrations applied,
  the dump's sha256, the media files' count and bytes.

The database goes first, then the media: a row commits only after its file is written, so the
files of every row in the dump are on disk when the media are copied (unless the retention purge
or the orphan sweep deletes one in between: that row restores without its file, as a purged
frame's does). A backup is written as `<stamp>.partial` and renamed when whole, so a folder
without the suffix is complete; one that fails (a full disk, pg_dump refused) is removed. One
backup runs at a time (a lock file in `root`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from psycopg.conninfo import make_conninfo

from recognition.pipeline.weights import sha256_file
from webapp.ops.models import Backup

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PARTIAL = ".partial"
PG_DUMP_FILE = "db.dump"
SQLITE_FILE = "db.sqlite3"
MEDIA = "media"
# A `.partial` folder older than this is a killed backup's (one runs at a time): deleted.
STALE_PARTIAL = timedelta(hours=12)
_STAMP = "%Y%m%dT%H%M%SZ"


class BackupFailed(Exception):
    """The backup could not be made; nothing of it is left but its failed `Backup` row."""


# What ends a backup as failed, not as a crash: the disk, pg_dump, the database, SQLite.
_FAILURES = (OSError, subprocess.SubprocessError, psycopg.Error, sqlite3.Error, BackupFailed)


@dataclass(frozen=True)
class MediaCopy:
    files: int = 0
    bytes: int = 0
    linked: int = 0  # hard links to the previous backup's unchanged files


def backup_create(*, root: Path, keep: int) -> Backup:
    """A whole backup in a new folder of `root`; the oldest complete ones beyond `keep` go."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    root.mkdir(parents=True, exist_ok=True)
    with _only_backup(root):
        started = timezone.now()
        stamp = _free_stamp(root, started.astimezone(UTC).strftime(_STAMP))
        folder = root / stamp
        partial = root / f"{stamp}{PARTIAL}"
        row = Backup.objects.create(started_at=started, folder=str(folder))
        previous = _complete(root)
        try:
            partial.mkdir()
            manifest = _database_dump(partial)
            copied = _media_copy(partial / MEDIA, previous[-1] / MEDIA if previous else None)
            manifest.update(
                created_at=started.isoformat(),
                media_files=copied.files,
                media_bytes=copied.bytes,
            )
            (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
            partial.rename(folder)
        except _FAILURES as exc:
            shutil.rmtree(partial, ignore_errors=True)
            row.error = str(exc)[:1000]
            row.finished_at = timezone.now()
            row.save(update_fields=["error", "finished_at"])
            logger.error("backup %s failed: %s", stamp, exc)
            raise BackupFailed(str(exc)) from exc
        row.ok = True
        row.finished_at = timezone.now()
        row.database_bytes = int(str(manifest["database_bytes"]))
        row.media_files = copied.files
        row.media_bytes = copied.bytes
        row.media_linked = copied.linked
        row.save()
        _prune(root, keep=keep)
    logger.info(
        "backup %s: database %d bytes, %d media files (%d bytes, %d linked to the last backup)",
        folder, row.database_bytes, copied.files, copied.bytes, copied.linked,
    )  # fmt: skip
    return row


def _free_stamp(root: Path, stamp: str) -> str:
    """`stamp`, or `stamp-N` when a backup of the same second exists (names still sort)."""
    name, n = stamp, 0
    while (root / name).exists() or (root / f"{name}{PARTIAL}").exists():
        n += 1
        name = f"{stamp}-{n}"
    return name


@contextmanager
def _only_backup(root: Path) -> Iterator[None]:
    """An exclusive lock on `root/.lock`: a second backup at once is refused, not queued."""
    with (root / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupFailed(f"another backup is running in {root}") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _complete(root: Path) -> list[Path]:
    """The complete backups in `root`, oldest first (their names sort by time)."""
    return sorted(
        path
        for path in root.iterdir()
        if path.is_dir() and not path.name.endswith(PARTIAL) and (path / MANIFEST).is_file()
    )


def backups_in(root: Path) -> list[Path]:
    return _complete(root) if root.is_dir() else []


def _prune(root: Path, *, keep: int) -> None:
    for old in _complete(root)[:-keep]:
        shutil.rmtree(old)
        logger.info("backup %s deleted (keeping the newest %d)", old, keep)
    cut = time.time() - STALE_PARTIAL.total_seconds()
    for path in root.glob(f"*{PARTIAL}"):
        if path.stat().st_mtime < cut:
            shutil.rmtree(path, ignore_errors=True)
            logger.info("backup %s deleted: a backup that never finished", path)


# --- the database ------------------------------------------------------------------------------


def _database_dump(folder: Path) -> dict[str, object]:
    """The dump file and the manifest's database part: row counts of the dumped snapshot."""
    if connection.vendor == "sqlite":
        target = folder / SQLITE_FILE
        counts = _sqlite_backup(target)
    elif connection.vendor == "postgresql":
        target = folder / PG_DUMP_FILE
        counts = _pg_dump(target)
    else:
        raise BackupFailed(f"no backup for a {connection.vendor} database")
    return {
        "database": connection.vendor,
        "database_file": target.name,
        "database_bytes": target.stat().st_size,
        "database_sha256": sha256_file(target),
        "row_counts": counts,
        "migrations": sorted(
            f"{app}.{name}"
            for app, name in MigrationRecorder(connection).migration_qs.values_list("app", "name")
        ),
    }


def pg_conninfo(database: str | None = None) -> str:
    """libpq's connection string for the default database (or `database` on its server),
    without the password: that goes in PGPASSWORD (`pg_env`), never in a command line."""
    db = settings.DATABASES["default"]
    params = {
        "dbname": database or db["NAME"],
        "user": db["USER"],
        "host": db["HOST"],
        "port": db["PORT"],
        "connect_timeout": db.get("OPTIONS", {}).get("connect_timeout", ""),
    }
    return make_conninfo(**{k: str(v) for k, v in params.items() if v})


def pg_env() -> dict[str, str]:
    password = str(settings.DATABASES["default"]["PASSWORD"] or "")
    return {**os.environ, **({"PGPASSWORD": password} if password else {})}


def pg_connect(database: str | None = None) -> psycopg.Connection:
    password = str(settings.DATABASES["default"]["PASSWORD"] or "")
    return psycopg.connect(pg_conninfo(database), password=password or None, autocommit=True)


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows of every ordinary table of the public schema (each register partition is one)."""
    names = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"
    ).fetchall()
    return {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
        for (name,) in names
    }


def _pg_dump(target: Path) -> dict[str, int]:
    """pg_dump of a snapshot this session exports and counts in, held open meanwhile: the
    counts are of exactly the rows dumped."""
    with pg_connect() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        counts = table_counts(conn)
        done = subprocess.run(  # noqa: S603 (our own arguments, no shell)
            [
                shutil.which("pg_dump") or "pg_dump",
                "--format=custom",
                "--no-owner",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={pg_conninfo()}",
            ],
            env=pg_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        conn.execute("COMMIT")
    if done.returncode != 0:
        raise BackupFailed(f"pg_dump failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return counts


def _sqlite_backup(target: Path) -> dict[str, int]:
    """SQLite's online backup through Django's own connection (a test's in-memory database
    too), then the copy's counts."""
    connection.ensure_connection()
    copy = sqlite3.connect(str(target))
    try:
        connection.connection.backup(copy)
        return sqlite_counts(copy)
    finally:
        copy.close()


def sqlite_counts(conn: object) -> dict[str, int]:
    tables = conn.execute(  # type: ignore[attr-defined]
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY 1"
    ).fetchall()
    return {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[attr-defined]
        for (name,) in tables
    }


# --- the media store ---------------------------------------------------------------------------


def media_files(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every regular file under `root` (links and other kinds are not data), one directory
    entry at a time: the store holds millions."""
    if not root.is_dir():
        return
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    yield Path(entry.path), entry.stat(follow_symlinks=False)


def _media_copy(target: Path, previous: Path | None) -> MediaCopy:
    source = Path(settings.MEDIA_ROOT)
    files = size = linked = 0
    target.mkdir()
    for path, stat in media_files(source):
        relative = path.relative_to(source)
        copy = target / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        if previous is not None and _unchanged(previous / relative, stat):
            os.link(previous / relative, copy)
            linked += 1
        else:
            shutil.copy2(path, copy)
        files += 1
        size += stat.st_size
    return MediaCopy(files=files, bytes=size, linked=linked)


def _unchanged(old: Path, stat: os.stat_result) -> bool:
    try:
        mine = old.stat()
    except FileNotFoundError:
        return False
    return mine.st_size == stat.st_size and mine.st_mtime_ns == stat.st_mtime_ns
