"""Celery adapters for operations: the daily orphaned-media sweep, retention purge and backup
(beat, settings.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from registry.fetch import FetchBusy
from registry.fetch import register_fetch as register_fetch_once
from webapp.ops import media, retention
from webapp.ops.backup import BackupFailed, backup_create
from webapp.ops.backup_verify import backup_verify

logger = logging.getLogger(__name__)

MEDIA_ORPHANS_SWEEP_TASK = "webapp.ops.tasks.media_orphans_sweep"
PURGE_EXPIRED_TASK = "webapp.ops.tasks.purge_expired"
BACKUP_TASK = "webapp.ops.tasks.backup"
REGISTER_FETCH_TASK = "webapp.ops.tasks.register_fetch"


@shared_task(
    name=MEDIA_ORPHANS_SWEEP_TASK,
    queue="default",
    # Acknowledged when it starts: a sweep longer than the broker's visibility timeout must not
    # be handed to a second worker, and a lost one costs nothing (the next day's sees the same).
    acks_late=False,
    ignore_result=True,
    # Tens of millions of files with a warm page cache (README, operators), far fewer from a
    # cold disk; a folder the sweep did not finish keeps finished_at empty on its row.
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 120,
)
def media_orphans_sweep() -> int:
    """Beat, daily: delete the files under the upload folders that no row references and that
    are older than MEDIA_ORPHANS_GRACE_HOURS."""
    grace = timedelta(hours=settings.MEDIA_ORPHANS_GRACE_HOURS)
    try:
        swept = media.media_orphans_sweep(older_than=grace)
    except SoftTimeLimitExceeded:
        logger.warning("media orphans: stopped at the time limit; the next sweep starts again")
        return 0
    return sum(folder.deleted for folder in swept)


@shared_task(
    name=PURGE_EXPIRED_TASK,
    queue="default",
    # Acknowledged when it starts, as the sweep: a lost run costs nothing (the next day's
    # deletes the same rows), a second worker running it at once would only skip locked rows.
    acks_late=False,
    ignore_result=True,
    # Batches of 1,000 rows in their own transactions: a run stopped at the limit keeps what it
    # deleted, and the next day's carries on (a first run over years of frames may need a few).
    soft_time_limit=3600,
    time_limit=3600 + 120,
)
def purge_expired() -> int:
    """Beat, daily: delete the gate frames, gate request logs and finished webhook deliveries
    older than their retention settings (webapp/ops/retention.py)."""
    try:
        purged = retention.retention_purge()
    except SoftTimeLimitExceeded:
        logger.warning("retention: stopped at the time limit; the next run carries on")
        return 0
    return sum(kind.deleted for kind in purged)


@shared_task(
    name=BACKUP_TASK,
    queue="default",
    # Acknowledged when it starts: a backup outlasting the broker's visibility timeout must not
    # start again on a second worker (the lock file would refuse it anyway).
    acks_late=False,
    ignore_result=True,
    # The dump, the day's new media files and, with BACKUP_VERIFY, a whole restore.
    soft_time_limit=6 * 3600,
    time_limit=6 * 3600 + 300,
)
def backup() -> bool:
    """Beat, daily: a backup into BACKUP_DIR, checked by restoring it when BACKUP_VERIFY."""
    if settings.BACKUP_DIR is None:
        return False
    try:
        row = backup_create(root=settings.BACKUP_DIR, keep=settings.BACKUP_KEEP)
    except BackupFailed:
        return False  # logged, and its row says why: /metrics shows the last success's age
    if settings.BACKUP_VERIFY:
        return backup_verify(Path(row.folder)).ok
    return True


@shared_task(
    name=REGISTER_FETCH_TASK,
    queue="default",
    # Acknowledged when it starts: an import outlasting the broker's visibility timeout must not
    # start again on a second worker (the lock would refuse it anyway); a lost look costs a day.
    acks_late=False,
    ignore_result=True,
    # REGISTER_FETCH_FILES files, each downloaded and imported (a monthly file: minutes).
    soft_time_limit=6 * 3600,
    time_limit=6 * 3600 + 300,
)
def register_fetch() -> int:
    """Beat, daily: the register's source looked at (registry/fetch.py); the files imported."""
    if not settings.REGISTER_SOURCE_URL:
        return 0
    try:
        rows = register_fetch_once(url=settings.REGISTER_SOURCE_URL)
    except FetchBusy:
        logger.info("register fetch: another one is running")
        return 0
    return sum(row.outcome == row.Outcome.IMPORTED for row in rows)
