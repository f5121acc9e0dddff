"""Celery adapter of the cross-check: one listing's facts -> rules -> flags, then the webhook."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from recognition.dispatch import CROSSCHECK_TASK
from recognition.services import (
    crosscheck_request_done,
    crosscheck_request_failed,
    crosscheck_request_token,
)
from webapp.checks import services
from webapp.checks.verdicts import listing_check_just_made
from webapp.partners.webhooks import webhook_event_emit

logger = logging.getLogger(__name__)


@shared_task(
    # The name recognition's outbox sends (it sits below this app and cannot import it).
    name=CROSSCHECK_TASK,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(OperationalError,),  # a dropped connection or a lock timeout: try again
    retry_backoff=True,
    max_retries=5,
)
def crosscheck_listing(listing_id: int) -> None:
    """Re-derive the listing's flags from its readings and the register (idempotent)."""
    # Read before the check reads the facts: a request made while it runs stays due.
    token = crosscheck_request_token(listing_id=listing_id)
    try:
        flags = services.listing_crosscheck(listing_id=listing_id)
    except OperationalError:
        raise  # retried above; a database that is down cannot count the failure either
    except Exception as exc:
        # Not transient: the sweeper would resend it every few minutes for ever. Counted, it
        # stops after CROSSCHECK_MAX_FAILURES, and the admin shows the error.
        crosscheck_request_failed(listing_id=listing_id, error=f"{type(exc).__name__}: {exc}")
        raise
    data: dict[str, object] = {"flags": len(flags)}
    check = listing_check_just_made(listing_id)
    if check is not None:
        data |= {"state": check.state, "verified": check.verified, "reason": check.reason}
    webhook_event_emit(event="listing.checked", listing_id=listing_id, data=data)
    if token is not None:
        crosscheck_request_done(listing_id=listing_id, token=token)
    logger.info("cross-checked listing %s: %d flags", listing_id, len(flags))
