"""The `gates` queue: frames a gate is waiting on, read by their own worker; and, on `default`,
the overstays' check.

Separate from `recognition` so a gate never waits behind the nightly backlog. The decision lands
in the frame's row; the web request that enqueued it is polling that row.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from recognition.engine_loader import get_engine
from recognition.pipeline.types import EngineUnavailable
from webapp.gates import overstays, visits
from webapp.gates.passages import frame_read_and_decide

logger = logging.getLogger(__name__)


@worker_process_init.connect
def _preload_engine(**_: object) -> None:
    """The gates worker loads the engine as each process starts (after the fork), so the first
    car of the day does not wait tens of seconds. Only where GATES_PRELOAD_ENGINE is set (the
    gates unit): other workers import this module too and must not pay for the model."""
    if not settings.GATES_PRELOAD_ENGINE:
        return
    try:
        get_engine()
    except EngineUnavailable as exc:
        logger.error("gates worker started without an engine: %s", exc)


@shared_task(
    name="webapp.gates.tasks.read_gate_frame",
    queue="gates",
    acks_late=True,
    ignore_result=True,
    # A gate stops waiting after GATE_READ_TIMEOUT_S; past this the frame is only a record.
    soft_time_limit=30,
    time_limit=40,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=2,
    retry_backoff=1,
)
def read_gate_frame(frame_id: int) -> None:
    frame_read_and_decide(frame_id=frame_id)


@shared_task(
    name="webapp.gates.tasks.overstays_alert",
    queue="default",
    # Idempotent: a visit is told once (its row records it), so a lost run costs a few minutes.
    acks_late=False,
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def overstays_alert() -> int:
    """Beat, every GATE_OVERSTAY_CHECK_MINUTES: cars just past their site's limit, sent once."""
    return overstays.overstays_alert()


@shared_task(
    name="webapp.gates.tasks.stale_stays_close",
    queue="default",
    acks_late=False,  # idempotent: a lost run's stays are closed by the next
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def stale_stays_close() -> int:
    """Beat, hourly: cars on a site past its close_stays_after_hours taken off it."""
    return visits.visits_close_stale()
