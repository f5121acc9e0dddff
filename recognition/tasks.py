"""Celery adapters around recognition.services: recognise photos, then send their cross-checks.

State lives in rows (Photo.status, Reading), so every task ignores its result and is safe to run
twice: that is what makes acks_late (redeliver if the worker dies) correct.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence

import numpy as np
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from recognition import dispatch, services
from recognition.engine_loader import TransientRecognitionError, engine_recognize, get_engine
from recognition.pipeline.types import Engine, EngineUnavailable, PhotoResult

logger = logging.getLogger(__name__)

# Errors that pass on their own: a busy GPU, a database or broker restart.
TRANSIENT_ERRORS = (TransientRecognitionError, TimeoutError, OperationalError, InterfaceError)
# Three retries with exponential backoff span about a minute: long enough for a restart.
MAX_RETRIES = 3
TIME_LIMIT_ERROR = "recognition took longer than the time limit"

_RECOGNITION_TASK = {
    "bind": True,
    "queue": "recognition",
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "soft_time_limit": settings.RECOGNITION_SOFT_TIME_LIMIT,
    "time_limit": settings.RECOGNITION_TIME_LIMIT,
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": MAX_RETRIES,
    "retry_backoff": settings.RECOGNITION_RETRY_BACKOFF,
    "retry_backoff_max": 300,
    "retry_jitter": True,
}


@shared_task(name=dispatch.RECOGNIZE_PHOTO_TASK, **_RECOGNITION_TASK)
def recognize_photo(self: Task, photo_id: int) -> None:
    _recognize(self, [photo_id])


@shared_task(name=dispatch.RECOGNIZE_PHOTOS_TASK, **_RECOGNITION_TASK)
def recognize_photos(self: Task, photo_ids: list[int]) -> None:
    _recognize(self, photo_ids)


def _recognize(task: Task, photo_ids: Sequence[int]) -> None:
    try:
        engine = get_engine()
    except EngineUnavailable as exc:
        reason = str(exc).removeprefix("engine unavailable: ")
        for photo_id in photo_ids:
            services.photo_fail(photo_id=photo_id, error=f"engine unavailable: {reason}")
        return
    worker = f"{task.request.hostname or socket.gethostname()}:{os.getpid()}"
    claims = services.photos_claim(
        photo_ids=photo_ids, engine_version=engine.version, worker=worker
    )
    try:
        claims, images = _load_images(claims)
    except TRANSIENT_ERRORS as exc:
        # Free the leases before the retry: it may run in another worker process, which would
        # drop photos leased to this one until the lease ran out (7 minutes).
        connection.close()
        _on_transient(task, claims, exc)
        raise
    if not claims:
        return
    try:
        results = engine_recognize(engine, images)
    except TRANSIENT_ERRORS as exc:
        _on_transient(task, claims, exc)
        raise
    except SoftTimeLimitExceeded:
        _fail_all(claims, TIME_LIMIT_ERROR)
        raise
    except Exception as exc:
        if len(claims) == 1:
            _fail_all(claims, _describe(exc))
            raise
        # Most likely one photo the engine cannot take: it alone must fail, not its batch-mates.
        logger.warning(
            "the engine refused a batch of %d photos (%s): reading them one at a time",
            len(claims),
            _describe(exc),
        )
        _recognize_one_at_a_time(task, engine, claims, images)
        return
    _store(task, engine.version, claims, results)


def _recognize_one_at_a_time(
    task: Task, engine: Engine, claims: Sequence[services.Claim], images: Sequence[np.ndarray]
) -> None:
    """Read a batch the engine refused photo by photo; a photo it refuses alone fails."""
    read: list[services.Claim] = []
    results: list[PhotoResult] = []
    for index, (claim, image) in enumerate(zip(claims, images, strict=True)):
        try:
            results.extend(engine_recognize(engine, [image]))
        except TRANSIENT_ERRORS as exc:
            # The photos failed alone stay failed; the rest retry, the ones read included.
            _on_transient(task, [*read, *claims[index:]], exc)
            raise
        except SoftTimeLimitExceeded:
            _store(task, engine.version, read, results)
            _fail_all(claims[index:], TIME_LIMIT_ERROR)
            raise
        except Exception as exc:
            services.photo_fail(photo_id=claim.photo_id, error=_describe(exc))
            continue
        read.append(claim)
    _store(task, engine.version, read, results)


def _store(
    task: Task,
    engine_version: str,
    claims: Sequence[services.Claim],
    results: Sequence[PhotoResult],
) -> None:
    if not claims:
        return
    try:
        listing_ids = services.photos_readings_store(
            engine_version=engine_version, results=list(zip(claims, results, strict=True))
        )
    except TRANSIENT_ERRORS as exc:  # the database went away: free the photos, then retry
        connection.close()
        _on_transient(task, claims, exc)
        raise
    # After the commit: if the broker is down now, the outbox rows wait for the sweeper.
    dispatch.crosscheck_send(listing_ids=listing_ids)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _on_transient(task: Task, claims: Sequence[services.Claim], exc: Exception) -> None:
    error = _describe(exc)
    final = task.request.retries >= task.max_retries
    for claim in claims:
        if final:
            services.photo_fail(photo_id=claim.photo_id, error=f"gave up after retries: {error}")
        else:
            services.photo_release_for_retry(photo_id=claim.photo_id, error=error)
    logger.warning("transient recognition error (retry %s): %s", task.request.retries, error)


def _load_images(
    claims: Sequence[services.Claim],
) -> tuple[list[services.Claim], list[np.ndarray]]:
    """Decode each photo; one unreadable file fails that photo, not the rest of its batch."""
    loaded: list[tuple[services.Claim, np.ndarray]] = []
    for claim in claims:
        try:
            loaded.append((claim, services.photo_image_load(photo_id=claim.photo_id)))
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            services.photo_fail(
                photo_id=claim.photo_id, error=f"cannot read the stored photo: {exc}"
            )
    return [claim for claim, _ in loaded], [image for _, image in loaded]


def _fail_all(claims: Sequence[services.Claim], error: str) -> None:
    for claim in claims:
        services.photo_fail(photo_id=claim.photo_id, error=error)


@shared_task(
    name="recognition.tasks.recognize_backlog",
    queue="default",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=1800,
    time_limit=1860,
)
def recognize_backlog(limit: int | None = None, model_version: str | None = None) -> int:
    """Nightly: queue every photo not yet read by the installed engine, in engine-sized batches."""
    if model_version is None:
        try:
            model_version = get_engine().version
        except EngineUnavailable as exc:
            logger.error("backlog skipped, engine unavailable: %s", exc)
            return 0
    return dispatch.backlog_enqueue(engine_version=model_version, limit=limit).enqueued


@shared_task(
    name="recognition.tasks.requeue_stale_photos",
    queue="default",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=120,
    time_limit=180,
)
def requeue_stale_photos() -> int:
    """Resend expired leases, unsent uploads and lost messages; never one already queued."""
    return dispatch.photos_requeue()


@shared_task(
    name="recognition.tasks.crosscheck_sweep",
    queue="default",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=120,
    time_limit=180,
)
def crosscheck_sweep() -> int:
    """Send the cross-checks the outbox holds and nobody checked since they were asked for."""
    return dispatch.crosscheck_sweep()


__all__ = [
    "crosscheck_sweep",
    "recognize_backlog",
    "recognize_photo",
    "recognize_photos",
    "requeue_stale_photos",
]
