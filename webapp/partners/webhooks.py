"""Webhooks: endpoints, events, deliveries and their attempts (services and selectors).

An event becomes one delivery row per subscribed endpoint, in the transaction that caused it,
and is sent after commit. Each attempt is logged. A failed delivery is retried with exponential
backoff until WEBHOOK_RETRY_WINDOW_S after the event; the beat task `webhooks_send_due` sends
what is due, so no retry waits in the broker. Every message expires after two scans: while the
workers are down the scan sends each pending delivery again and again, and the stale copies are
dropped by the worker without a query instead of being run one by one. Events of one listing
reach an endpoint in order: a delivery waits while an earlier one of the same listing is still
pending. Ids are taken in commit order (an emitter holds its listing's order lock until it
commits), so no delivery is sent before an earlier one of its listing has committed. A
redelivery a partner asks for is sent on its own, outside that order, with its webhook-id
unchanged: an old message retrying against a failing receiver does not hold back the listing's
new events. The rules are in `webapp.partners.ordering`.

No transaction is open while a receiver answers: an attempt claims its delivery with a lease
committed on the row (`lease_expires_at`), makes the request, and records the outcome in a
second short transaction. While the lease lasts no other worker sends the delivery; a worker
that died mid-request leaves it to the scan once the lease has run out. Leases and the time a
delivery is due (`next_attempt_at`) are set and compared on the database's clock, the one clock
every worker shares: a drifting worker clock sends a retry neither early nor late.

A receiver answering 410 Gone asks us to stop: its endpoint is disabled at once, as one that
kept failing is, and its deliveries wait, pending, until it is enabled again. After a secret
rotation the old secret signs every message too, for WEBHOOK_SECRET_GRACE_S.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, When
from django.db.models.functions import Now
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webapp.listings.models import Listing
from webapp.partners import ordering
from webapp.partners.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webapp.partners.transport import (
    Answer,
    EndpointRefused,
    webhook_post,
    webhook_url_check,
)

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
USER_AGENT = "platecheck-webhooks/1"
# Deliveries handed to the broker per scan: the rest wait for the next scan.
SCAN_BATCH = 500
# webapp.partners.tasks.webhook_deliver registers itself under this name (PartnersConfig.ready
# imports it in every process).
DELIVER_TASK = "webapp.partners.tasks.webhook_deliver"
# The delivery task is killed WEBHOOK_TIMEOUT_S + 30 s after it starts (tasks.py); a lease of
# WEBHOOK_TIMEOUT_S + 60 s so outlives any worker still making its attempt.
LEASE_MARGIN_S = 60
# The receiver asks us to stop sending (Standard Webhooks): its endpoint is disabled at once.
GONE = 410


# --- endpoints ----------------------------------------------------------------------------------


def webhook_endpoint_create(
    *, owner: AbstractBaseUser, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    webhook_url_check(url=url)
    chosen = sorted(set(events))
    if not chosen or any(e not in WebhookEvent.values for e in chosen):
        raise EndpointRefused("invalid_events", f"events must be among {WebhookEvent.values}")
    return WebhookEndpoint.objects.create(owner=owner, url=url, events=chosen, secret=_new_secret())


def _new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Issue a new signing secret; the one it replaces keeps signing too (a second signature in
    `webhook-signature`) for WEBHOOK_SECRET_GRACE_S, so the receiver can switch without
    rejecting a message. Rotating again within that time retires the older one at once."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + timedelta(
            seconds=settings.WEBHOOK_SECRET_GRACE_S
        )
        endpoint.secret = _new_secret()
        endpoint.secret_rotated_at = now
        endpoint.save(
            update_fields=[
                "secret", "previous_secret", "previous_secret_expires_at", "secret_rotated_at",
            ]
        )  # fmt: skip
    logger.info("webhook endpoint %s: signing secret rotated", endpoint.pk)
    return endpoint


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Turn a disabled endpoint back on; its pending deliveries are sent by the next scan."""
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.failures_in_row = 0
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failures_in_row"])
    return endpoint


def webhook_endpoints_for(*, user: AbstractBaseUser) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=user)


def webhook_deliveries_for(*, user: AbstractBaseUser) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint__owner=user)
        .select_related("endpoint")
        .prefetch_related("attempt_log")
    )


# --- events -------------------------------------------------------------------------------------


def webhook_event_emit(*, event: str, listing_id: int, data: dict[str, Any] | None = None) -> int:
    """Queue `event` about a listing for its owner's endpoints; returns the deliveries made.

    Call it inside the transaction that makes the change: the rows roll back with it, and the
    sends start only after commit. It holds the listing's order lock until that transaction
    ends; a transaction emitting for several listings emits in ascending listing id order.
    Partners get ids and states only, never moderator notes.
    """
    listing = Listing.objects.filter(pk=listing_id).only("owner_id", "marketplace_id").first()
    if listing is None or listing.owner_id is None:
        return 0
    endpoints = _subscribed(WebhookEndpoint.objects.filter(owner_id=listing.owner_id), event)
    if not endpoints:
        return 0
    # A transaction of its own when called outside one (the cross-check task); no savepoint
    # inside one, whose end releases the lock.
    with transaction.atomic(savepoint=False):
        # Before the insert: a second emitter of this listing waits for our commit, then takes
        # a later id, so the listing's id order is its commit order.
        ordering.listing_order_lock(listing_id=listing_id)
        return _deliveries_queue(
            endpoints,
            event=event,
            listing_id=listing.pk,
            data={
                "listing_id": listing.pk,
                "marketplace_id": listing.marketplace_id,
                **(data or {}),
            },
        )


def webhook_event_emit_to(
    *, event: str, endpoints: Iterable[WebhookEndpoint], data: dict[str, Any]
) -> int:
    """Queue `event`, about no listing, for the `endpoints` the caller chose (those subscribed
    to it); returns the deliveries made. Such deliveries keep no order among themselves: each
    carries its own times. Call it inside the transaction that makes the change."""
    chosen = _subscribed(endpoints, event)
    if not chosen:
        return 0
    return _deliveries_queue(chosen, event=event, listing_id=None, data=data)


def _subscribed(endpoints: Iterable[WebhookEndpoint], event: str) -> list[WebhookEndpoint]:
    return [e for e in endpoints if event in e.events]


def _deliveries_queue(
    endpoints: list[WebhookEndpoint],
    *,
    event: str,
    listing_id: int | None,
    data: dict[str, Any],
) -> int:
    """The deliveries' rows, in the caller's transaction, sent once it commits; how many."""
    now = timezone.now()
    body = {"type": event, "timestamp": now.isoformat(), "data": data}
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            message_id=f"msg_{uuid.uuid4().hex}",
            listing_id=listing_id,
            payload=body,
            created_at=now,
            next_attempt_at=Now(),
        )
        for endpoint in endpoints
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: webhook_deliveries_enqueue(delivery_ids=ids), robust=True)
    return len(ids)


def message_expires_s() -> int:
    """Seconds a delivery's message stays runnable: two scans. A message an idle worker takes at
    once is never dropped; one left waiting longer is sent again by a later scan anyway (every
    due delivery is), so while the `default` queue runs more than two scans behind, webhooks
    wait for it to catch up instead of piling up runnable copies in it."""
    return 2 * settings.WEBHOOK_SCAN_S


def webhook_deliveries_enqueue(*, delivery_ids: Iterable[int]) -> None:
    """Hand deliveries to the workers, each message expiring after `message_expires_s()`."""
    expires = message_expires_s()
    # Sent by name: the task module imports this one, so importing it back would be a cycle.
    for delivery_id in delivery_ids:
        current_app.signature(DELIVER_TASK, args=(delivery_id,)).apply_async(expires=expires)


# --- delivery -----------------------------------------------------------------------------------


def backoff_seconds(*, attempts: int) -> float:
    """Exponential, capped, with jitter so a recovering receiver is not hit all at once."""
    base = min(
        settings.WEBHOOK_BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), settings.WEBHOOK_BACKOFF_MAX_S
    )
    return base * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not security


def lease_seconds() -> int:
    return settings.WEBHOOK_TIMEOUT_S + LEASE_MARGIN_S


def webhook_delivery_attempt(*, delivery_id: int) -> str | None:
    """Send one due delivery; returns its status afterwards, None when it was not sent now.

    Claim (a committed lease), request with no transaction open, record: a slow receiver holds
    neither a database connection's transaction nor a row lock, however long it takes.
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    at = timezone.now()
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    headers = signed_headers(
        secrets=_signing_secrets(delivery.endpoint, at=at),
        message_id=delivery.message_id,
        body=body,
        at=at,
    )
    answer = webhook_post(url=delivery.endpoint.url, body=body.encode(), headers=headers)
    return _record(delivery, answer, at=at)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take the delivery for one attempt, if it may be sent now: pending, due, its endpoint on,
    no live lease (another worker's attempt), no earlier delivery of its listing pending."""
    with transaction.atomic():
        delivery = (
            # skip_locked: another worker is claiming or recording it this instant.
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "endpoint__owner")
            # Leases and due times are read and written on the database's clock, one for every
            # worker: a worker whose clock runs behind would write a lease already over for the
            # others, and send a retry late.
            .annotate(database_now=Now())
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None or not delivery.endpoint.is_active:
            return None
        database_now = delivery.database_now
        if delivery.next_attempt_at > database_now:
            return None
        if delivery.lease_expires_at is not None and delivery.lease_expires_at > database_now:
            return None
        if ordering.waits_for_earlier(delivery):
            return None
        delivery.lease_expires_at = database_now + timedelta(seconds=lease_seconds())
        delivery.save(update_fields=["lease_expires_at"])
    return delivery


def _enqueue_next(delivery: WebhookDelivery) -> None:
    following = ordering.next_in_order(delivery)
    if following is not None:
        webhook_deliveries_enqueue(delivery_ids=[following])


def _signing_secrets(endpoint: WebhookEndpoint, *, at: datetime) -> list[str]:
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > at:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def signed_headers(
    *, secrets: Sequence[str], message_id: str, body: str, at: datetime
) -> dict[str, str]:
    """Standard Webhooks headers; one `v1,<sig>` per secret, space-separated, so a receiver
    verifying with any of them accepts the message."""
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body) for secret in secrets
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _record(claimed: WebhookDelivery, answer: Answer, *, at: datetime) -> str | None:
    """Log the attempt and settle the delivery, in one short transaction, if our lease still
    holds it; it lets the lease go."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .annotate(database_now=Now())
            .filter(pk=claimed.pk)
            .first()
        )
        endpoint = (
            WebhookEndpoint.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(pk=claimed.endpoint_id)
            .first()
        )
        if delivery is None or endpoint is None:
            return None  # deleted with its endpoint meanwhile
        attempt = WebhookAttempt(
            delivery=delivery, number=delivery.attempts + 1, at=at,
            status_code=answer.status_code, error=answer.error, duration_ms=answer.duration_ms,
        )  # fmt: skip
        attempt.save()
        delivery.attempts = attempt.number
        # Each claim's lease ends later than the one before, so it names the claim: another
        # value means ours ran out and another worker took the delivery; the outcome is its.
        # Our request was made all the same: it is counted, so attempt numbers stay unique.
        if delivery.lease_expires_at != claimed.lease_expires_at:
            delivery.save(update_fields=["attempts"])
            logger.warning("webhook %s: lease lost during the attempt", delivery.message_id)
            return None
        delivery.lease_expires_at = None
        if attempt.error and endpoint.url != claimed.endpoint.url:
            # Staff changed the URL while the request was out: what the old one answered says
            # nothing of the new one (a retired receiver's 410 would switch it off). Due again.
            delivery.next_attempt_at = delivery.database_now
            transaction.on_commit(
                lambda: webhook_deliveries_enqueue(delivery_ids=[delivery.pk]), robust=True
            )
        else:
            _settle(delivery, endpoint, attempt)
        delivery.save(
            update_fields=[
                "attempts", "status", "delivered_at", "next_attempt_at", "lease_expires_at",
            ]
        )  # fmt: skip
        if delivery.status != WebhookDelivery.Status.PENDING:
            transaction.on_commit(lambda: _enqueue_next(delivery), robust=True)
    logger.info(
        "webhook %s attempt %d to endpoint %s: %s",
        delivery.message_id, attempt.number, endpoint.pk, attempt.error or "delivered",
    )  # fmt: skip
    return delivery.status


def _settle(delivery: WebhookDelivery, endpoint: WebhookEndpoint, attempt: WebhookAttempt) -> None:
    if not attempt.error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = attempt.at
        if endpoint.failures_in_row:
            endpoint.failures_in_row = 0
            endpoint.save(update_fields=["failures_in_row"])
    elif attempt.status_code == GONE:
        # "Stop sending" (Standard Webhooks): no retries; the delivery stays pending and due,
        # so enabling the endpoint again sends it first.
        _endpoint_disable(endpoint, reason="the receiver answered 410 Gone")
    elif attempt.at - delivery.created_at >= timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_S):
        delivery.status = WebhookDelivery.Status.FAILED
        _endpoint_failed_once(endpoint)
    else:
        # From the database's now, not the attempt's: `attempt.at` is this worker's clock.
        delay = backoff_seconds(attempts=delivery.attempts)
        delivery.next_attempt_at = delivery.database_now + timedelta(seconds=delay)


def _endpoint_failed_once(endpoint: WebhookEndpoint) -> None:
    endpoint.failures_in_row += 1
    endpoint.save(update_fields=["failures_in_row"])
    if endpoint.failures_in_row >= settings.WEBHOOK_DISABLE_AFTER:
        _endpoint_disable(
            endpoint,
            reason=f"{endpoint.failures_in_row} deliveries in a row failed for "
            f"{settings.WEBHOOK_RETRY_WINDOW_S // 3600} h",
        )


def _endpoint_disable(endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Switch the endpoint off (its deliveries wait, pending) and tell its partner, once."""
    if not endpoint.is_active:
        return
    endpoint.is_active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    transaction.on_commit(lambda: _tell_partner(endpoint), robust=True)


def _tell_partner(endpoint: WebhookEndpoint) -> None:
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, endpoint.disabled_reason)
    if endpoint.owner.email:
        send_mail(
            subject="platecheck: your webhook endpoint was disabled",
            message=(
                f"We disabled the webhook endpoint {endpoint.url}: {endpoint.disabled_reason}.\n"
                "Fix the receiver, then enable it again through the API "
                f"(POST /api/v1/webhooks/endpoints/{endpoint.pk}/enable/); events kept while it "
                "was off are sent then."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[endpoint.owner.email],
        )


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A partner asks for a delivery again: it becomes pending, due now, with a new window.

    One that had ended becomes a redelivery, sent outside its listing's order (`ordering`);
    one still pending was never delivered, and keeps its place in the order.
    """
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=Now(),
        created_at=now,
        # Decided on the row as it is now, in the update: `delivery` may be stale.
        redelivered_at=Case(
            When(status=WebhookDelivery.Status.PENDING, then=F("redelivered_at")), default=Now()
        ),
    )
    transaction.on_commit(
        lambda: webhook_deliveries_enqueue(delivery_ids=[delivery.pk]), robust=True
    )
    delivery.refresh_from_db()
    return delivery


def webhook_delivery_ids_due(*, limit: int = SCAN_BATCH) -> list[int]:
    """Pending deliveries that may be sent now: due, not under way (a live lease), and not held
    back behind an earlier one of their listing (those are sent when it ends; counted here,
    they would fill every batch and starve the retries of other listings)."""
    return list(
        WebhookDelivery.objects.filter(
            Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=Now()),
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=Now(),
            endpoint__is_active=True,
        )
        .exclude(ordering.held_back())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
