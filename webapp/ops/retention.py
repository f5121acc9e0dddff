"""The retention purge: what is older than its setting's days is deleted, daily (beat).

- Gate frames (`GATE_FRAME_RETENTION_DAYS`), by `received_at`: the row, then its file. A frame
  still pending (being read) is kept whatever its age. Its passage stays, the decision record
  (plate, decision, times, `frames_count`); audit rows that named the frame keep their row
  with the frame emptied (`DeviceRequest.frame`, SET_NULL).
- Gate request audit rows (`GATE_REQUEST_LOG_RETENTION_DAYS`), `DeviceRequest`, by `created_at`.
- Webhook deliveries delivered or given up (`failed`), with their attempts
  (`WEBHOOK_LOG_RETENTION_DAYS`), by `created_at` (the event's, or its last redelivery's): the
  partner API no longer lists them, nor can they be redelivered. A pending delivery (waiting,
  leased or retrying) is kept whatever its age.

0 keeps a kind for ever. Listing photos are never purged here: they are the marketplace's
content, deleted with their listing.

The cut-off is read once per run from the database's clock, the one every process shares: a
worker whose clock runs ahead cannot purge young rows. Rows go BATCH at a time, each batch in a
short transaction that locks only its own rows (SKIP LOCKED: a row another transaction holds
waits for the next run), so a first run over a year of frames never holds one giant
transaction. A frame's file is deleted once its row's deletion has committed; a file already
gone is logged and counted, one that cannot be deleted too, and the purge goes on (the
orphaned-media sweep, webapp/ops/media.py, removes any file left without its row).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from webapp.gates.models import DeviceRequest, Frame
from webapp.gates.views import QUEUED_FRAME_MAX_AGE
from webapp.ops.models import RetentionPurge
from webapp.partners.models import WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

# Rows per transaction: each batch's locks last milliseconds, and a stopped run loses one batch.
BATCH = 1000
FRAMES = "gate_frames"
REQUESTS = "gate_requests"
DELIVERIES = "webhook_deliveries"
KINDS = (FRAMES, REQUESTS, DELIVERIES)
SETTINGS = {
    FRAMES: "GATE_FRAME_RETENTION_DAYS",
    REQUESTS: "GATE_REQUEST_LOG_RETENTION_DAYS",
    DELIVERIES: "WEBHOOK_LOG_RETENTION_DAYS",
}
# A frame from a gate's offline queue joins its passage up to QUEUED_FRAME_MAX_AGE late, and the
# passage's vote and frames_count are made again from the frames stored for it.
MIN_FRAME_RETENTION_DAYS = QUEUED_FRAME_MAX_AGE.days + 1
FINISHED = (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED)


@dataclass
class Purged:
    kind: str
    days: int  # 0: kept for ever, nothing looked at
    cutoff: datetime | None = None
    expired: int = 0  # older than the cut-off, to be deleted (a dry run's "would delete")
    kept: int = 0  # older, but kept: frames still pending, deliveries not finished
    deleted: int = 0
    attempts_deleted: int = 0  # webhook attempts, deleted with their deliveries
    files_deleted: int = 0
    files_missing: int = 0  # a frame's file already gone
    files_failed: int = 0


def retention_plan() -> list[Purged]:
    """Each kind's retention, cut-off and what is past it, counted; nothing is deleted.
    Raises ValueError for a retention the purge refuses (negative, frames under 8 days)."""
    now = _database_now()
    plan = []
    for kind in KINDS:
        days = _retention_days(kind)
        if not days:
            plan.append(Purged(kind, days))
            continue
        cutoff = now - timedelta(days=days)
        plan.append(
            Purged(
                kind,
                days,
                cutoff,
                expired=_expired(kind, cutoff).count(),
                kept=_kept(kind, cutoff).count(),
            )
        )
    return plan


def retention_purge(
    *, plan: list[Purged] | None = None, on_batch: Callable[[int], None] | None = None
) -> list[Purged]:
    """Delete what `plan` (default: a new one) found past each cut-off, BATCH rows at a time;
    `on_batch` gets each batch's row count (a progress bar). Run it outside a transaction (the
    command and the task do): a frame's file goes when its batch commits. Each kind's pass is
    recorded in a RetentionPurge row as it goes."""
    plan = retention_plan() if plan is None else plan
    for purged in plan:
        if purged.cutoff is None:
            logger.info("retention: %s kept for ever (%s=0)", purged.kind, SETTINGS[purged.kind])
            continue
        _purge_kind(purged, on_batch=on_batch)
    return plan


def _retention_days(kind: str) -> int:
    name = SETTINGS[kind]
    days = int(getattr(settings, name))
    if days < 0:
        raise ValueError(f"{name} must be 0 (keep for ever) or a number of days, got {days}")
    if kind == FRAMES and 0 < days < MIN_FRAME_RETENTION_DAYS:
        raise ValueError(
            f"{name} must be 0 (keep for ever) or at least {MIN_FRAME_RETENTION_DAYS} days, got "
            f"{days}: a gate's offline queue sends a frame up to {QUEUED_FRAME_MAX_AGE.days} days "
            "late, and its passage is voted again over the frames stored for it"
        )
    return days


def _database_now() -> datetime:
    """The database's clock, shared by every process. SQLite (the demo: one machine, web and
    worker in one process) has none of its own to offer: the process's is the same clock."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        (now,) = cursor.fetchone()
    return now


def _expired(kind: str, cutoff: datetime) -> QuerySet[Model]:
    """The rows of `kind` the purge deletes, older than `cutoff`."""
    if kind == FRAMES:
        return Frame.objects.filter(received_at__lt=cutoff).exclude(status=Frame.Status.PENDING)
    if kind == REQUESTS:
        return DeviceRequest.objects.filter(created_at__lt=cutoff)
    return WebhookDelivery.objects.filter(created_at__lt=cutoff, status__in=FINISHED)


def _kept(kind: str, cutoff: datetime) -> QuerySet[Model]:
    """The rows of `kind` older than `cutoff` that the purge leaves: still in use."""
    if kind == FRAMES:
        return Frame.objects.filter(received_at__lt=cutoff, status=Frame.Status.PENDING)
    if kind == REQUESTS:
        return DeviceRequest.objects.none()
    return WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status__in=FINISHED)


_ORDER = {FRAMES: "received_at", REQUESTS: "created_at", DELIVERIES: "created_at"}


def _purge_kind(purged: Purged, *, on_batch: Callable[[int], None] | None) -> None:
    assert purged.cutoff is not None
    record = RetentionPurge.objects.create(
        kind=purged.kind, retention_days=purged.days, cutoff=purged.cutoff
    )
    try:
        while deleted := _batch_purge(purged):
            _record(record, purged)
            if on_batch is not None:
                on_batch(deleted)
    except BaseException:
        with contextlib.suppress(DatabaseError):  # the error to see is the one that stopped it
            _record(record, purged)
        raise
    _record(record, purged, finished=True)
    _log(purged)


def _batch_purge(purged: Purged) -> int:
    """Delete up to BATCH of the oldest expired rows in one transaction; how many went."""
    assert purged.cutoff is not None
    with transaction.atomic():
        # Locked until the batch commits; a row another transaction holds (a delivery a partner
        # is asking for again) is skipped, for the next run.
        rows = list(
            _expired(purged.kind, purged.cutoff)
            .select_for_update(skip_locked=True)
            .order_by(_ORDER[purged.kind])
            .values_list("pk", *(["image"] if purged.kind == FRAMES else []))[:BATCH]
        )
        return _delete(purged, rows) if rows else 0


def _delete(purged: Purged, rows: list[tuple]) -> int:
    """Delete the batch's locked rows ((pk,) or, for frames, (pk, file name)); a frame's file
    goes once the deletion has committed."""
    pks = [row[0] for row in rows]
    if purged.kind == FRAMES:
        names = [row[1] for row in rows if row[1]]
        # DeviceRequest.frame is SET_NULL: the audit rows that named these frames stay.
        _total, by_model = Frame.objects.filter(pk__in=pks).delete()
        deleted = by_model.get(Frame._meta.label, 0)
        transaction.on_commit(lambda: _files_delete(purged, names))
    elif purged.kind == REQUESTS:
        deleted, _by_model = DeviceRequest.objects.filter(pk__in=pks).delete()
    else:
        _total, by_model = WebhookDelivery.objects.filter(pk__in=pks).delete()
        deleted = by_model.get(WebhookDelivery._meta.label, 0)
        purged.attempts_deleted += by_model.get(WebhookAttempt._meta.label, 0)
    purged.deleted += deleted
    return deleted


def _files_delete(purged: Purged, names: list[str]) -> None:
    storage = Frame._meta.get_field("image").storage
    for name in names:
        try:
            os.remove(storage.path(name))
        except FileNotFoundError:
            purged.files_missing += 1
            logger.info("retention: %s was already gone", name)
        except OSError as exc:
            purged.files_failed += 1
            logger.warning("retention: could not delete %s: %s", name, exc)
        else:
            purged.files_deleted += 1


def _record(record: RetentionPurge, purged: Purged, *, finished: bool = False) -> None:
    RetentionPurge.objects.filter(pk=record.pk).update(
        deleted=purged.deleted,
        files_deleted=purged.files_deleted,
        files_failed=purged.files_failed,
        **({"finished_at": timezone.now()} if finished else {}),
    )


def _log(purged: Purged) -> None:
    files = (
        f"; files: {purged.files_deleted} deleted, {purged.files_missing} already gone, "
        f"{purged.files_failed} failed"
        if purged.kind == FRAMES
        else ""
    )
    attempts = f" (and {purged.attempts_deleted} attempts)" if purged.kind == DELIVERIES else ""
    logger.info(
        "retention: %s older than %d days (before %s): %d deleted%s, %d kept (in use)%s",
        purged.kind,
        purged.days,
        purged.cutoff.isoformat() if purged.cutoff else "-",
        purged.deleted,
        attempts,
        purged.kept,
        files,
    )
