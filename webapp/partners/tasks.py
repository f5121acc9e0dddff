"""Celery adapters for webhooks: state lives in WebhookDelivery rows, so tasks are idempotent."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from webapp.partners import webhooks


@shared_task(
    name=webhooks.DELIVER_TASK,
    queue="default",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=settings.WEBHOOK_TIMEOUT_S + 20,
    # Less than the attempt's lease (webhooks.LEASE_MARGIN_S): no worker outlives its lease.
    time_limit=settings.WEBHOOK_TIMEOUT_S + 30,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=True,
)
def webhook_deliver(delivery_id: int) -> None:
    webhooks.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(
    name="webapp.partners.tasks.webhooks_send_due",
    queue="default",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def webhooks_send_due() -> int:
    """Beat: hand every due retry (and any send lost at commit) to the workers."""
    ids = webhooks.webhook_delivery_ids_due()
    webhooks.webhook_deliveries_enqueue(delivery_ids=ids)
    return len(ids)
