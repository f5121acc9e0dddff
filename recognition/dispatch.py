"""Sending recognition and cross-check messages: write the intent to the database, then send.

Every message has a row behind it (`Photo.queued_at`, `CrosscheckRequest`), so a message the
broker lost is found again by a sweeper, and a photo that already has a message or a lease
never gets a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import ChannelError
from tqdm import tqdm

from recognition import selectors, services
from recognition.models import BacklogRun

logger = logging.getLogger(__name__)

UPLOAD_QUEUE = "recognition"
BACKLOG_QUEUE = "backlog"
# Listings per sweep; the next sweep (a minute later) takes the rest.
SWEEP_LIMIT = 5_000
# Recognition tasks are sent by name: recognition.tasks imports this module (RecognitionConfig
# .ready imports the tasks in every process, so eager and in-process sends find them).
RECOGNIZE_PHOTO_TASK = "recognition.tasks.recognize_photo"
RECOGNIZE_PHOTOS_TASK = "recognition.tasks.recognize_photos"
# The chain's next link: readings -> the listing's cross-check. It lives in a higher layer
# (webapp.checks.tasks registers itself under this name), so it is sent by name, not imported.
CROSSCHECK_TASK = "webapp.checks.tasks.crosscheck_listing"


def _chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def photos_send(
    *,
    photo_ids: Sequence[int],
    queue: str,
    batch: int | None = None,
    backlog_run: BacklogRun | None = None,
) -> int:
    """Send the photos that have no message and no live lease, `batch` per message."""
    sent = 0
    for chunk in _chunks(photo_ids, batch or settings.RECOGNITION_BATCH):
        marked = services.photos_mark_queued(photo_ids=chunk, backlog_run=backlog_run)
        if not marked:
            continue
        try:
            current_app.signature(RECOGNIZE_PHOTOS_TASK).apply_async(args=[marked], queue=queue)
        except Exception:
            services.photos_unmark_queued(photo_ids=marked)
            raise
        sent += len(marked)
    return sent


def photo_send_upload(*, photo_id: int) -> None:
    """A fresh upload: its own message on the upload queue, ahead of any backlog."""
    if not services.photos_mark_queued(photo_ids=[photo_id]):
        return
    try:
        current_app.signature(RECOGNIZE_PHOTO_TASK).apply_async(args=[photo_id], queue=UPLOAD_QUEUE)
    except Exception:
        services.photos_unmark_queued(photo_ids=[photo_id])
        raise


def crosscheck_send(*, listing_ids: Sequence[int]) -> int:
    """Send cross-checks the outbox holds; a broker error leaves them due for the sweeper."""
    sent: list[int] = []
    try:
        for listing_id in listing_ids:
            current_app.signature(CROSSCHECK_TASK, args=(listing_id,)).delay()
            sent.append(listing_id)
    except Exception as exc:
        logger.warning(
            "cross-check of %d listings not sent (%s): the sweeper will send them",
            len(listing_ids) - len(sent),
            exc,
        )
    if sent:
        services.crosscheck_requests_mark_sent(listing_ids=sent)
    return len(sent)


def recognition_queues_empty() -> bool:
    """True when no recognition message waits in the broker (then an old `queued_at` is lost)."""
    from webapp.celery import app

    if app.conf.task_always_eager:
        return True
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in (UPLOAD_QUEUE, BACKLOG_QUEUE):
            try:
                _, count, _ = channel.queue_declare(queue=queue, passive=True)
            except ChannelError:  # Redis drops an empty list: the queue is empty
                continue
            if count:
                return False
    return True


def photos_requeue() -> int:
    """The sweeper: resend expired leases, unsent uploads, and messages the broker lost.

    Nothing that still has a message in the queue is resent, however long the backlog: a
    `queued_at` is only taken as lost when the recognition queues are empty.

    A photo whose lease expired goes alone in its message: its worker died, perhaps on it, and
    sent back in its batch a poison photo would kill its batch-mates with it each time until
    all of them were failed as poison.
    """
    now = timezone.now()
    ids: set[int] = set()
    lost_before = now - timedelta(seconds=settings.RECOGNITION_QUEUE_LOST_SECONDS)
    lost = selectors.photo_ids_queued_before(before=lost_before)
    if lost and recognition_queues_empty():
        services.photos_unmark_queued(photo_ids=lost)
        ids.update(lost)
    grace = timedelta(seconds=settings.RECOGNITION_UNSENT_GRACE_SECONDS)
    ids.update(selectors.photo_ids_unsent(older_than=now - grace))
    # After the unmarking, so a lost message of a photo left by a dead worker goes alone too.
    expired = selectors.photo_ids_lease_expired(now=now)
    sent = photos_send(photo_ids=expired, queue=UPLOAD_QUEUE, batch=1)
    sent += photos_send(photo_ids=sorted(ids.difference(expired)), queue=UPLOAD_QUEUE)
    if sent:
        logger.warning("requeued %d photos (expired leases, unsent or lost messages)", sent)
    return sent


def crosscheck_sweep() -> int:
    resend = timezone.now() - timedelta(seconds=settings.CROSSCHECK_RESEND_SECONDS)
    due = selectors.crosscheck_listing_ids_due(sent_before=resend)[:SWEEP_LIMIT]
    return crosscheck_send(listing_ids=due)


def backlog_enqueue(
    *, engine_version: str, limit: int | None = None, progress: bool = False
) -> BacklogRun:
    """Queue every photo this version has not read, in GPU-sized messages on the backlog queue.

    Resumable: what a killed run already queued or read is not selected again. A photo failed
    for want of an engine is set pending first: a failed photo is never claimed as it is.
    """
    run = BacklogRun.objects.create(model_version=engine_version)
    ids = selectors.photo_ids_backlog(engine_version=engine_version, limit=limit)
    run.total = len(ids)
    run.save(update_fields=["total"])
    size = settings.RECOGNITION_BATCH
    with tqdm(total=len(ids), unit="photo", desc="queue", disable=not progress) as bar:
        for chunk in _chunks(ids, size * 64):
            services.photos_reopen_for_backlog(photo_ids=chunk)
            sent = photos_send(photo_ids=chunk, queue=BACKLOG_QUEUE, batch=size, backlog_run=run)
            run.enqueued += sent
            BacklogRun.objects.filter(pk=run.pk).update(enqueued=run.enqueued)
            bar.update(len(chunk))
    logger.info(
        "backlog: %d photos queued in batches of %d for %s", run.enqueued, size, engine_version
    )
    return run
