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
from webapp.partners.models import WebhookDelivery, WebhookEndpoint
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
    """Holds each request until `release` is set, then answers `status` (200)."""

    def __init__(self, server: HTTPServer, *, path: str = "/hook", status: int = 200) -> None:
        self.requests: list[dict[str, str]] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.status = status
        server.expect_request(path, method="POST").respond_with_handler(self.handle)

    def handle(self, request: WerkzeugRequest) -> WerkzeugResponse:
        self.requests.append(dict(request.headers))
        self.arrived.set()
        self.release.wait(60)
        return WerkzeugResponse("ok", status=self.status)


class OneByOneReceiver:
    """Holds the n-th request until `release[n]` is set, then answers 200."""

    def __init__(self, server: HTTPServer, *, requests: int) -> None:
        self.arrived = [threading.Event() for _ in range(requests)]
        self.release = [threading.Event() for _ in range(requests)]
        self._count = 0
        self._lock = threading.Lock()
        server.expect_request("/hook", method="POST").respond_with_handler(self.handle)

    def handle(self, request: WerkzeugRequest) -> WerkzeugResponse:
        with self._lock:
            number, self._count = self._count, self._count + 1
        self.arrived[number].set()
        self.release[number].wait(60)
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


def test_a_worker_whose_clock_runs_behind_still_keeps_the_others_off_its_delivery(
    partner, httpserver, monkeypatch
):
    # given a delivery being sent by a worker whose clock runs ten minutes behind (the clock is
    # the system's edge), to a receiver that has not answered yet
    from webapp.partners import webhooks

    receiver = HoldingReceiver(httpserver)
    delivery = _pending_delivery(partner, httpserver.url_for("/hook"))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    real_now = timezone.now
    monkeypatch.setattr(webhooks.timezone, "now", lambda: real_now() - timedelta(minutes=10))
    results: list[str | None] = []
    sender = _send_in_thread(delivery.pk, results)
    try:
        assert receiver.arrived.wait(10), "the request never reached the receiver"
        monkeypatch.setattr(webhooks.timezone, "now", real_now)
        # when a worker with the right time scans and tries to send it
        # then the delivery is under way for it too: listed by no scan, sent by no second worker
        assert webhook_delivery_ids_due() == []
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    finally:
        monkeypatch.setattr(webhooks.timezone, "now", real_now)
        receiver.release.set()
        sender.join(30)
    assert results == ["delivered"]
    assert len(receiver.requests) == 1


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


def test_an_attempt_whose_lease_ran_out_is_counted_and_numbered_apart(partner):
    # given a worker whose request outlived its lease, and a second worker sending the delivery
    # again meanwhile (the first one's request reached the receiver: it is an attempt made)
    with HTTPServer(threaded=True) as server:
        receiver = OneByOneReceiver(server, requests=2)
        delivery = _pending_delivery(partner, server.url_for("/hook"))
        first: list[str | None] = []
        second: list[str | None] = []
        late = _send_in_thread(delivery.pk, first)
        try:
            assert receiver.arrived[0].wait(10), "the first request never reached the receiver"
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                lease_expires_at=timezone.now() - timedelta(seconds=1)
            )
            again = _send_in_thread(delivery.pk, second)
            assert receiver.arrived[1].wait(10), "the second request never reached the receiver"
            # when the first worker records its answer, then the second
            receiver.release[0].set()
            late.join(30)
            receiver.release[1].set()
            again.join(30)
        finally:
            for release in receiver.release:
                release.set()
    # then the outcome is the second worker's, and both requests are in the log, each with a
    # number of its own, counted in the delivery's attempts
    assert (first, second) == ([None], ["delivered"])
    delivery.refresh_from_db()
    numbers = list(delivery.attempt_log.values_list("number", flat=True))
    assert numbers == [1, 2]
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


def test_a_410_from_the_url_the_endpoint_had_when_sent_does_not_disable_its_new_url(
    partner, httpserver
):
    # given a delivery under way to a receiver that will answer 410 Gone (it is retired)
    retired = HoldingReceiver(httpserver, path="/old", status=410)
    current = HoldingReceiver(httpserver, path="/new")
    current.release.set()
    delivery = _pending_delivery(partner, httpserver.url_for("/old"))
    results: list[str | None] = []
    sender = _send_in_thread(delivery.pk, results)
    try:
        assert retired.arrived.wait(10), "the request never reached the receiver"
        # when staff move the endpoint to the partner's new receiver meanwhile (the admin form)
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
            url=httpserver.url_for("/new")
        )
    finally:
        retired.release.set()
        sender.join(30)
    # then the retired receiver's answer does not switch the endpoint off at its new URL
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.failures_in_row) == (
        True, "", 0,
    )  # fmt: skip
    # and the delivery is sent again at once, to the URL the endpoint has now
    delivery.refresh_from_db()
    assert (results, delivery.status, delivery.attempts) == (["pending"], "delivered", 2)
    assert len(current.requests) == 1


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
