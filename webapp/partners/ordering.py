"""The order of one listing's deliveries to an endpoint: the rules `webhooks` sends by.

A listing's deliveries are sent in id order: one waits while an earlier one of its listing
(same endpoint) is pending. For that to be the order the events happened in, ids must be
taken in commit order: an emitter takes the listing's order lock before it inserts, so a
second emitter of the listing waits for the first one's commit and gets a later id. Otherwise
a transaction could take id 10, commit after the one that took id 11, and 11 would be sent
before 10 existed for the scan.

A redelivery (a partner asks for a delivery that had ended, delivered or failed, to be sent
again) is sent on its own, outside that order, its webhook-id unchanged: it neither waits for
earlier deliveries nor holds back later ones, so an old message retrying for hours against a
failing receiver does not stall the listing's new events.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from webapp.partners.models import WebhookDelivery

# The advisory-lock key of a listing's order is a hash of this and the listing id: a key space
# of its own, so the lock meets no other advisory lock (a rare collision only makes two
# listings' emitters take turns).
ORDER_LOCK_KEY = "platecheck.webhooks.listing-order:"


def listing_order_lock(*, listing_id: int) -> None:
    """Hold the listing's order lock until the current transaction ends (it must run inside
    one). Only emitters take it, last in their transactions, so it joins no cycle with the row
    locks their callers hold; one transaction locking several listings must lock them in
    ascending id order. SQLite (the demo's database) takes no lock: it lets one transaction
    write at a time, so its ids are in commit order already."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"{ORDER_LOCK_KEY}{listing_id}"],
        )


def _in_order() -> QuerySet[WebhookDelivery]:
    """Pending deliveries that keep their listing's order (not redeliveries)."""
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, redelivered_at__isnull=True
    )


def waits_for_earlier(delivery: WebhookDelivery) -> bool:
    if delivery.listing_id is None or delivery.redelivered_at is not None:
        return False
    return (
        _in_order()
        .filter(
            endpoint_id=delivery.endpoint_id, listing_id=delivery.listing_id, id__lt=delivery.pk
        )
        .exists()
    )


def held_back() -> Q:
    """`waits_for_earlier` as a condition on the deliveries of a query (the scan's)."""
    earlier = _in_order().filter(
        endpoint_id=OuterRef("endpoint_id"),
        listing_id=OuterRef("listing_id"),
        id__lt=OuterRef("id"),
    )
    return Q(redelivered_at__isnull=True) & Q(Exists(earlier))


def next_in_order(delivery: WebhookDelivery) -> int | None:
    """The delivery of the listing to send once `delivery` has ended, if any (none after a
    redelivery: it held nothing back)."""
    if delivery.listing_id is None or delivery.redelivered_at is not None:
        return None
    return (
        _in_order()
        .filter(
            endpoint_id=delivery.endpoint_id, listing_id=delivery.listing_id, id__gt=delivery.pk
        )
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
