"""The orphaned-media sweep: files under the upload folders that no row references.

A photo's or a gate frame's file is written before its row commits, and a row's deletion leaves
its file, so files outlive their rows: the admin's form rolls back its own transaction after the
upload code returned; a process is killed (gunicorn's timeout, the OOM killer) between the write
and the commit; a gate frame's row fails to commit; a listing or a frame is deleted. The sweep
deletes such a file once it is older than the grace age, so a file whose row is still on its way
is never touched.

Each folder is listed one directory entry at a time (os.scandir) and the database is asked about
its files BATCH names at a time (an index on each file column: migration ops 0002), so neither
the listing nor the rows are ever held whole.

No code gives a new row the name of a file already on disk (an upload of the same bytes gets a
name of its own while the old file is there), so a file older than the grace age that no row
references when asked will never be referenced: deleting it after the query is safe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError, models
from django.utils import timezone

from webapp.gates.models import FRAMES_FOLDER, Frame
from webapp.listings.models import PHOTOS_FOLDER, Photo
from webapp.ops.models import MediaSweep

logger = logging.getLogger(__name__)

# The shortest grace age that deletes: a file and its row are written within one request or task
# (GUNICORN_TIMEOUT, 60 s; a gate frame's, 40 s), so an hour never touches an upload in flight.
GRACE_MIN = timedelta(hours=1)
# Names per query: one index probe each, a short IN list, and the sweep's row updated per batch.
BATCH = 1000


@dataclass(frozen=True)
class UploadFolder:
    folder: str  # under MEDIA_ROOT: where the field's upload_to puts every file
    model: type[models.Model]
    field: str


# Every FileField of the product (tests/webapp/test_media_orphans.py checks that none is missing).
UPLOAD_FOLDERS = (
    UploadFolder(PHOTOS_FOLDER, Photo, "image"),
    UploadFolder(FRAMES_FOLDER, Frame, "image"),
)


@dataclass(frozen=True)
class Orphan:
    name: str  # relative to MEDIA_ROOT, as a row would hold it
    size: int
    age: timedelta
    deleted: bool  # False in a dry run, or when deleting failed (`error`)
    error: str = ""


@dataclass
class FolderSwept:
    folder: str
    files: int = 0
    young: int = 0  # younger than the grace age: not looked at
    referenced: int = 0
    orphans: int = 0
    orphan_bytes: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    failed: int = 0
    refused: str = ""  # why the folder was not swept at all


@dataclass(frozen=True)
class _File:
    name: str
    path: str
    size: int
    age: timedelta


def media_orphans_sweep(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    on_file: Callable[[], None] | None = None,
    on_orphan: Callable[[Orphan], None] | None = None,
) -> list[FolderSwept]:
    """Delete (dry: only list) every file under the upload folders older than `older_than` that
    no row references. Each file seen is passed to `on_file` (a progress bar), each orphan to
    `on_orphan`; a real sweep records itself in MediaSweep rows as it goes."""
    least = timedelta(0) if dry_run else GRACE_MIN
    if older_than < least:
        raise ValueError(
            f"the grace age must be at least {least.total_seconds() / 3600:g} h, "
            f"got {older_than.total_seconds() / 3600:g} h"
        )
    return [
        _folder_sweep(
            upload, older_than=older_than, dry_run=dry_run, on_file=on_file, on_orphan=on_orphan
        )
        for upload in UPLOAD_FOLDERS
    ]


def _folder_sweep(
    upload: UploadFolder,
    *,
    older_than: timedelta,
    dry_run: bool,
    on_file: Callable[[], None] | None,
    on_orphan: Callable[[Orphan], None] | None,
) -> FolderSwept:
    swept = FolderSwept(upload.folder)
    storage = upload.model._meta.get_field(upload.field).storage
    root = storage.path(upload.folder)
    if not os.path.isdir(root):
        return swept
    if not upload.model._default_manager.exists():
        # Every file would be an orphan: more likely a database that is not this folder's
        # (a fresh one, a wrong DATABASE_URL) than a deployment that deleted every row.
        swept.refused = f"no {upload.model._meta.verbose_name} row at all; nothing deleted"
        logger.error("media orphans: %s: %s", upload.folder, swept.refused)
        return swept
    record = None
    if not dry_run:
        record = MediaSweep.objects.create(
            folder=upload.folder, grace_seconds=int(older_than.total_seconds())
        )
    try:
        for batch in _old_files(root, upload.folder, swept, older_than=older_than, on_file=on_file):
            _batch_sweep(upload, batch, swept, dry_run=dry_run, on_orphan=on_orphan)
            _record(record, swept)
    except BaseException:
        with contextlib.suppress(DatabaseError):  # the error to see is the one that stopped it
            _record(record, swept)
        raise
    _record(record, swept, finished=True)
    _log(swept, older_than=older_than, dry_run=dry_run)
    return swept


def _old_files(
    root: str,
    folder: str,
    swept: FolderSwept,
    *,
    older_than: timedelta,
    on_file: Callable[[], None] | None,
) -> Iterator[list[_File]]:
    """The files under `root` older than `older_than`, in batches of at most BATCH."""
    now = time.time()
    batch: list[_File] = []
    for name, entry in _files(root, folder):
        try:
            stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # deleted meanwhile
        swept.files += 1
        if on_file is not None:
            on_file()
        age = now - stat.st_mtime
        if age < older_than.total_seconds():
            swept.young += 1
            continue
        batch.append(_File(name, entry.path, stat.st_size, timedelta(seconds=age)))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _files(root: str, prefix: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(name relative to MEDIA_ROOT, entry) of every regular file under `root`, read one
    directory entry at a time. Links are neither followed nor reported, nor are dot files: not
    ours (an NFS client's .nfs* of a file still open, a restore's temporaries)."""
    folders = [(root, prefix)]
    while folders:
        path, name = folders.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        folders.append((entry.path, f"{name}/{entry.name}"))
                    elif entry.is_file(follow_symlinks=False):
                        yield f"{name}/{entry.name}", entry
        except FileNotFoundError:
            continue  # a folder removed meanwhile
        except OSError as exc:
            logger.warning("media orphans: cannot list %s: %s", name, exc)


def _batch_sweep(
    upload: UploadFolder,
    batch: list[_File],
    swept: FolderSwept,
    *,
    dry_run: bool,
    on_orphan: Callable[[Orphan], None] | None,
) -> None:
    # A name PostgreSQL cannot hold (not UTF-8 on disk) is no row's.
    names = [f.name for f in batch if _storable(f.name)]
    referenced = set(
        upload.model._default_manager.filter(**{f"{upload.field}__in": names}).values_list(
            upload.field, flat=True
        )
    )
    for file in batch:
        if file.name in referenced:
            swept.referenced += 1
            continue
        orphan = _orphan_delete(file, dry_run=dry_run)
        if orphan is None:
            continue
        swept.orphans += 1
        swept.orphan_bytes += file.size
        if orphan.deleted:
            swept.deleted += 1
            swept.deleted_bytes += file.size
        elif orphan.error:
            swept.failed += 1
        if on_orphan is not None:
            on_orphan(orphan)


def _storable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _orphan_delete(file: _File, *, dry_run: bool) -> Orphan | None:
    """The orphan, deleted unless `dry_run`; None when it was gone already (another sweep)."""
    if dry_run:
        return Orphan(file.name, file.size, file.age, deleted=False)
    try:
        os.remove(file.path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("media orphans: could not delete %s: %s", file.name, exc)
        return Orphan(file.name, file.size, file.age, deleted=False, error=str(exc))
    logger.info(
        "media orphans: deleted %s (%d bytes, %.1f h old, no row)",
        file.name,
        file.size,
        file.age.total_seconds() / 3600,
    )
    return Orphan(file.name, file.size, file.age, deleted=True)


def _record(record: MediaSweep | None, swept: FolderSwept, *, finished: bool = False) -> None:
    if record is None:
        return
    MediaSweep.objects.filter(pk=record.pk).update(
        files=swept.files,
        young=swept.young,
        referenced=swept.referenced,
        deleted=swept.deleted,
        deleted_bytes=swept.deleted_bytes,
        failed=swept.failed,
        **({"finished_at": timezone.now()} if finished else {}),
    )


def _log(swept: FolderSwept, *, older_than: timedelta, dry_run: bool) -> None:
    logger.info(
        "media orphans: %s: %d files, %d younger than %g h, %d with a row, %d orphans "
        "(%d bytes): %s",
        swept.folder,
        swept.files,
        swept.young,
        older_than.total_seconds() / 3600,
        swept.referenced,
        swept.orphans,
        swept.orphan_bytes,
        "none deleted (dry run)"
        if dry_run
        else f"{swept.deleted} deleted ({swept.deleted_bytes} bytes), {swept.failed} failed",
    )
