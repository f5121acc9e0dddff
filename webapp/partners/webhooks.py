"""Webhooks: endpoints, events, deliveries and their attempts (services and selectors).

An event becomes one delivery row per subscribed endpoint, in the transaction that caused it,
and is sent after commit. Each attempt is logged. A failed delivery is retried with exponential
backoff until WEBHOOK_RETRY_WINDOW_S after the event; the beat task `webhooks_send_due` sends
what is due, so no retry waits in the broker. Every message expires after two scans: while the
workers are down the scan sends each pending delivery again and again, and the stale copies are
dropped by the worker without a query instead of being run one by one. Events of one listing
reach an endpoint in order: a delivery waits while an earlier one of the same listing is still
pending.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from webapp.listings.models import Listing
from webapp.partners.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webapp.partners.transport import (
    AttemptDeadline,
    EndpointRefused,
    delivery_session,
    public_address,
)

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
USER_AGENT = "platecheck-webhooks/1"
# Deliveries handed to the broker per scan: the rest wait for the next scan.
SCAN_BATCH = 500
# webapp.partners.tasks.webhook_deliver registers itself under this name (PartnersConfig.ready
# imports it in every process).
DELIVER_TASK = "webapp.partners.tasks.webhook_deliver"


# --- endpoints ----------------------------------------------------------------------------------


def webhook_url_check(*, url: str) -> None:
    """Refuse receivers inside our own network (SSRF) unless WEBHOOK_ALLOW_PRIVATE.

    The host is the one the sender connects to: urllib3 parses the URL for requests, and a URL
    that the standard library reads with another host (`https://10.0.0.1\\@example.com/`) is
    refused as ambiguous. The delivery checks the address again as it connects
    (`_PublicHTTPSConnection`), so a name that resolves elsewhere by then reaches nothing.
    """
    try:
        parts = parse_url(url)
        stdlib_host = urlsplit(url).hostname
    except (LocationParseError, ValueError) as exc:
        raise EndpointRefused("invalid_url", "the URL must be http(s)://host/...") from exc
    if parts.scheme not in ("https", "http") or not parts.host:
        raise EndpointRefused("invalid_url", "the URL must be http(s)://host/...")
    if (stdlib_host or "").lower() != parts.host.strip("[]").lower():
        raise EndpointRefused("invalid_url", "the URL's host is ambiguous")
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    if parts.scheme != "https":
        raise EndpointRefused("https_required", "webhook URLs must use https")
    public_address(parts.host.strip("[]"), parts.port or 443)


def webhook_endpoint_create(
    *, owner: AbstractBaseUser, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    webhook_url_check(url=url)
    chosen = sorted(set(events))
    if not chosen or any(e not in WebhookEvent.values for e in chosen):
        raise EndpointRefused("invalid_events", f"events must be among {WebhookEvent.values}")
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()
    return WebhookEndpoint.objects.create(owner=owner, url=url, events=chosen, secret=secret)


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
    sends start only after commit. Partners get ids and states only, never moderator notes.
    """
    listing = Listing.objects.filter(pk=listing_id).only("owner_id", "marketplace_id").first()
    if listing is None or listing.owner_id is None:
        return 0
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(owner_id=listing.owner_id) if event in e.events
    ]
    if not endpoints:
        return 0
    now = timezone.now()
    body = {
        "type": event,
        "timestamp": now.isoformat(),
        "data": {
            "listing_id": listing_id,
            "marketplace_id": listing.marketplace_id,
            **(data or {}),
        },
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            message_id=f"msg_{uuid.uuid4().hex}",
            listing_id=listing_id,
            payload=body,
            created_at=now,
            next_attempt_at=now,
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


def webhook_delivery_attempt(*, delivery_id: int) -> str | None:
    """Send one due delivery; returns its status afterwards, None when it was not sent now."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint", "endpoint__owner")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None or not delivery.endpoint.is_active:
            return None
        if delivery.next_attempt_at > timezone.now() or _waits_for_earlier(delivery):
            return None
        attempt = _post(delivery)
        _record(delivery, attempt)
    if delivery.status != WebhookDelivery.Status.PENDING:
        transaction.on_commit(lambda: _enqueue_next(delivery), robust=True)
    return delivery.status


def _waits_for_earlier(delivery: WebhookDelivery) -> bool:
    if delivery.listing_id is None:
        return False
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        listing_id=delivery.listing_id,
        status=WebhookDelivery.Status.PENDING,
        id__lt=delivery.pk,
    ).exists()


def _enqueue_next(delivery: WebhookDelivery) -> None:
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            listing_id=delivery.listing_id,
            status=WebhookDelivery.Status.PENDING,
            id__gt=delivery.pk,
        )
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None and delivery.listing_id is not None:
        webhook_deliveries_enqueue(delivery_ids=[following])


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _post(delivery: WebhookDelivery) -> WebhookAttempt:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    now = timezone.now()
    headers = signed_headers(
        secret=delivery.endpoint.secret, message_id=delivery.message_id, body=body, at=now
    )
    attempt = WebhookAttempt(delivery=delivery, number=delivery.attempts + 1, at=now)
    started = time.monotonic()
    deadline = AttemptDeadline(settings.WEBHOOK_TIMEOUT_S)
    try:
        webhook_url_check(url=delivery.endpoint.url)
        with deadline, delivery_session() as session:
            # stream: the status is the answer; the body is never read, so an endless one
            # costs nothing (the connection is closed unread, not reused).
            with session.post(
                delivery.endpoint.url,
                data=body.encode(),
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT_S,
                allow_redirects=False,
                stream=True,
            ) as response:
                attempt.status_code = response.status_code
        if deadline.expired:
            # Cut off mid-answer: the headers read so far may look like a complete 200.
            attempt.status_code = None
            attempt.error = "timeout"
        elif not 200 <= response.status_code < 300:
            attempt.error = f"HTTP {response.status_code}"
    except EndpointRefused as exc:
        attempt.error = exc.code
    except (requests.Timeout, SoftTimeLimitExceeded):
        # The task's soft limit: a name that takes for ever to resolve. Counted like any
        # timeout, so the delivery is given up after its window instead of retried for ever.
        attempt.error = "timeout"
    except requests.ConnectionError:
        attempt.error = "timeout" if deadline.expired else "connection failed"
    except requests.RequestException as exc:
        attempt.error = "timeout" if deadline.expired else type(exc).__name__
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    return attempt


def _record(delivery: WebhookDelivery, attempt: WebhookAttempt) -> None:
    attempt.save()
    delivery.attempts = attempt.number
    endpoint = delivery.endpoint
    if not attempt.error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = attempt.at
        if endpoint.failures_in_row:
            endpoint.failures_in_row = 0
            endpoint.save(update_fields=["failures_in_row"])
    elif attempt.at - delivery.created_at >= timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_S):
        delivery.status = WebhookDelivery.Status.FAILED
        _endpoint_failed_once(endpoint)
    else:
        delay = backoff_seconds(attempts=delivery.attempts)
        delivery.next_attempt_at = attempt.at + timedelta(seconds=delay)
    delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    logger.info(
        "webhook %s attempt %d to endpoint %s: %s",
        delivery.message_id, attempt.number, endpoint.pk, attempt.error or "delivered",
    )  # fmt: skip


def _endpoint_failed_once(endpoint: WebhookEndpoint) -> None:
    endpoint.failures_in_row += 1
    fields = ["failures_in_row"]
    if endpoint.is_active and endpoint.failures_in_row >= settings.WEBHOOK_DISABLE_AFTER:
        endpoint.is_active = False
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = (
            f"{endpoint.failures_in_row} deliveries in a row failed for "
            f"{settings.WEBHOOK_RETRY_WINDOW_S // 3600} h"
        )
        fields += ["is_active", "disabled_at", "disabled_reason"]
        transaction.on_commit(lambda: _tell_partner(endpoint), robust=True)
    endpoint.save(update_fields=fields)


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
    """A partner asks for a delivery again: it becomes pending, due now, with a new window."""
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now, created_at=now
    )
    transaction.on_commit(
        lambda: webhook_deliveries_enqueue(delivery_ids=[delivery.pk]), robust=True
    )
    delivery.refresh_from_db()
    return delivery


def webhook_delivery_ids_due(*, limit: int = SCAN_BATCH) -> list[int]:
    """Pending deliveries that may be sent now: due, and not held back behind an earlier one of
    their listing (those are sent when it ends; counted here, they would fill every batch and
    starve the retries of other listings)."""
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        listing_id=OuterRef("listing_id"),
        status=WebhookDelivery.Status.PENDING,
        id__lt=OuterRef("id"),
    )
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            endpoint__is_active=True,
        )
        .exclude(Exists(earlier))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
