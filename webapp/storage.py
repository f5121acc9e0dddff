"""The media store's one write: an uploaded file (a photo, a gate frame) whole or not at all.

Django's FileSystemStorage keeps what it wrote of a file when the write fails midway (a full disk,
ENOSPC; an I/O error, EIO; a read-only remount, EROFS), under a name it does not return. Made
here, under a name taken with O_EXCL, the file is this upload's own, and a failed write removes
it. Each refusal is counted for Prometheus: no row is left to count it from.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from prometheus_client import Counter

# A full disk is freed by an operator, not in seconds: what clients are told to wait before
# sending again (the gate's Pi retries on its own clock and decides from its cache meanwhile).
RETRY_AFTER_S = 60

WRITE_FAILURES = Counter(
    "platecheck_media_write_failures",
    "Uploaded files (photos, gate frames) the media store refused, by folder and errno "
    "(ENOSPC: the disk is full); each was answered 503 storage_unavailable, nothing kept",
    labelnames=["folder", "errno"],
)


def file_write(*, file: FieldFile, name: str, content: bytes) -> None:
    """Store `content` as `file`'s file, named by its field's upload_to from `name`, and set
    `file.name`. Raises OSError, with nothing of the file left, when the store refuses it."""
    storage, field = file.storage, file.field
    stored_name = field.generate_filename(file.instance, name)
    try:
        if isinstance(storage, FileSystemStorage):
            file.name = _whole_file_write(storage, stored_name, content, field.max_length)
        else:
            # Another backend (object storage) writes a file whole or not at all: its own API.
            file.save(name, ContentFile(content), save=False)
    except OSError as exc:
        code = errno.errorcode.get(exc.errno or 0, "other")
        WRITE_FAILURES.labels(folder=stored_name.split("/", 1)[0], errno=code).inc()
        raise


def _whole_file_write(
    storage: FileSystemStorage, name: str, content: bytes, max_length: int | None
) -> str:
    while True:
        name = storage.get_available_name(name, max_length=max_length)
        path = Path(storage.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue  # a concurrent upload took the name first
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        if storage.file_permissions_mode is not None:
            path.chmod(storage.file_permissions_mode)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name
