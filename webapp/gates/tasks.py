"""The `gates` queue: frames a gate is waiting on, read by their own worker.

Separate from `recognition` so a gate never waits behind the nightly backlog. The decision lands
in the frame's row; the web request that enqueued it is polling that row.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webapp.gates.passages import frame_read_and_decide


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
