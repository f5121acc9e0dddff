"""No transaction is open while a receiver answers: a delivery is claimed with a lease committed on
its row, the receiver called, and the outcome recorded in a second short transaction. Two
workers never send the same attempt, and a worker killed mid-request leaves its delivery to be
sent again once the lease has run out.

The receivers are real HTTP servers on loopback that hold each request until told to answer;
the senders are threads with their own database connections, and a real Celery worker.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse

from tests.fixtures.factories import ListingFactory
from tests.fixtures.worker import Worker
from webapp.partners.models import WebhookDelivery
from webapp.partners.webhooks import (
    webhook_delivery_attempt,
    webhook_delivery_ids_due,
    webhook_endpoint_create,
    webhook_event_emit,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Generous: the worker shares two CPU cores with other jobs.
ARRIVAL_TIMEOUT_S = 90
SENDERS = 4


class HoldingReceiver:
    """Holds each request until `release` is set, then answers 200."""

    def __init__(self, server: HTTPServer) -> None:
        self.requests: list[dict[str, str]] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        server.expect_request("/hook", method="POST").respond_with_handler(self.handle)

    def handle(self, request: WerkzeugRequest) -> WerkzeugResponse:
        self.requests.append(dict(request.headers))
        self.arrived.set()
        self.release.wait(60)
        return WerkzeugResponse("ok", status=200)


def _pending_delivery(partner, url: str, *, after: WebhookDelivery | None = None):
    """A due delivery (after `after`, of the same listing, when given). Made as a row, not
    emitted: an event emitted outside a transaction is sent at once."""
    if after is None:
        endpoint = webhook_endpoint_create(owner=partner, url=url, events=["flag.decided"])
        listing_id = ListingFactory(owner=partner).pk
    else:
        endpoint, listing_id = after.endpoint, after.listing_id
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="flag.decided",
        message_id=f"msg_{WebhookDelivery.objects.count()}",
        listing_id=listing_id,
        payload={"type": "flag.decided", "data": {"listing_id": listing_id}},
    )


def _send_in_thread(delivery_id: int, results: list[str | None]) -> threading.Thread:
    def send() -> None:
        try:
            results.append(webhook_delivery_attempt(delivery_id=delivery_id))
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _sessions_idle_in_transaction() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%%'"
        )
        return [row[0] for row in cursor.fetchall()]


def test_no_transaction_nor_row_lock_is_held_while_the_receiver_answers(partner, httpserver):
    # given a delivery being sent to a receiver that has not answered yet
    receiver = HoldingReceiver(httpserver)
    delivery = _pending_delivery(partner, httpserver.url_for("/hook"))
    results: list[str | None] = []
    sender = _send_in_thread(delivery.pk, results)
    try:
        assert receiver.arrived.wait(10), "the request never reached the receiver"
        # then no session of the database sits in a transaction
        assert _sessions_idle_in_transaction() == []
        # and another connection locks the delivery's row at once
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM partners_webhookdelivery WHERE id = %s FOR UPDATE NOWAIT",
                [delivery.pk],
            )
        # and the row shows the attempt under way: neither the scan nor a second worker sends it
        assert webhook_delivery_ids_due() == []
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    finally:
        receiver.release.set()
        sender.join(30)
    # when the receiver answers, the outcome is recorded and the lease let go
    assert results == ["delivered"]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.lease_expires_at) == ("delivered", 1, None)


def test_workers_sending_the_same_delivery_at_once_send_it_once(partner, httpserver):
    # given a due delivery and a receiver that holds the request it gets
    receiver = HoldingReceiver(httpserver)
    delivery = _pending_delivery(partner, httpserver.url_for("/hook"))
    results: list[str | None] = []
    # when several workers take it at the same moment
    senders = [_send_in_thread(delivery.pk, results) for _ in range(SENDERS)]
    try:
        assert receiver.arrived.wait(10), "the request never reached the receiver"
        # (all but the one sending give up without waiting for it)
        for _ in range(100):
            if len(results) == SENDERS - 1:
                break
            time.sleep(0.1)
    finally:
        receiver.release.set()
        for sender in senders:
            sender.join(30)
    # then one of them sent it, once
    assert (results.count("delivered"), results.count(None)) == (1, SENDERS - 1)
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert delivery.attempt_log.count() == 1


def test_a_later_event_of_the_listing_waits_while_an_earlier_one_is_under_way(partner, httpserver):
    # given an event of a listing being sent, and a later event of that listing
    receiver = HoldingReceiver(httpserver)
    first = _pending_delivery(partner, httpserver.url_for("/hook"))
    second = _pending_delivery(partner, "", after=first)
    results: list[str | None] = []
    sender = _send_in_thread(first.pk, results)
    try:
        assert receiver.arrived.wait(10), "the request never reached the receiver"
        # then the later one is neither due nor sent while the first is under way
        assert webhook_delivery_ids_due() == []
        assert webhook_delivery_attempt(delivery_id=second.pk) is None
    finally:
        receiver.release.set()
        sender.join(30)
    # and it follows the first once that is recorded
    assert [h["Webhook-Id"] for h in receiver.requests] == [first.message_id, second.message_id]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by the worker process at start: set before the worker fixture runs. The long
    # timeout keeps the request open until the test kills the worker.
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_S", "60")


@pytest.mark.integration
def test_a_worker_killed_mid_request_leaves_the_delivery_to_retry_after_its_lease(
    worker_env: None, celery_worker: Worker, partner, httpserver: HTTPServer
) -> None:
    # given a worker sending an event to a receiver that has not answered yet
    receiver = HoldingReceiver(httpserver)
    webhook_endpoint_create(owner=partner, url=httpserver.url_for("/hook"), events=["flag.decided"])
    with transaction.atomic():
        webhook_event_emit(event="flag.decided", listing_id=ListingFactory(owner=partner).pk)
    try:
        assert receiver.arrived.wait(ARRIVAL_TIMEOUT_S), celery_worker.log()
        # when the worker is killed mid-request
        celery_worker.kill()
    finally:
        receiver.release.set()
    delivery = WebhookDelivery.objects.get()

    # then, while its lease lasts, nobody sends it again: it may have reached the receiver
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert webhook_delivery_ids_due() == []
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.lease_expires_at > timezone.now()

    # when the lease has run out (moved into the past here: it outlasts the task's time limit)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    # then the scan finds it again and it is delivered, with the same webhook-id
    assert webhook_delivery_ids_due() == [delivery.pk]
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    assert len(receiver.requests) == 2
    assert {h["Webhook-Id"] for h in receiver.requests} == {delivery.message_id}
