"""Celery adapters for operations: the daily orphaned-media sweep (beat, settings.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from webapp.ops import media

logger = logging.getLogger(__name__)

MEDIA_ORPHANS_SWEEP_TASK = "webapp.ops.tasks.media_orphans_sweep"


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
