"""Receivers that answer badly: slowly, with endless bodies, or a listing's backlog of waiting
events. Each attempt must end in bounded time and be counted, and the scan must keep sending
what is due however many deliveries wait behind an earlier one.

The receivers are real TCP listeners on loopback that misbehave on purpose.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.fixtures.factories import ListingFactory
from webapp.partners.models import WebhookDelivery
from webapp.partners.webhooks import (
    webhook_delivery_attempt,
    webhook_delivery_ids_due,
    webhook_endpoint_create,
    webhook_event_emit,
)

pytestmark = pytest.mark.django_db

# How long the hostile receivers keep a connection busy: far beyond the attempt's time limit.
STALL_S = 12.0


class TricklingReceiver:
    """Answers every request with `head`, then `tail` one byte every `interval` seconds, for at
    most STALL_S: a receiver that never lets a per-read timeout fire."""

    def __init__(self, *, head: bytes, tail: bytes, interval: float = 0.2) -> None:
        self.head, self.tail, self.interval = head, tail, interval
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.requests = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.requests += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        started = time.monotonic()
        try:
            conn.recv(65536)
            conn.sendall(self.head)
            for byte in self.tail:
                if self.stop.is_set() or time.monotonic() - started > STALL_S:
                    break
                conn.sendall(bytes([byte]))
                time.sleep(self.interval)
        except OSError:
            pass  # the sender hung up: what a bounded attempt does
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def _attempt_once(partner, url: str) -> tuple[WebhookDelivery, float]:
    webhook_endpoint_create(owner=partner, url=url, events=["flag.decided"])
    listing = ListingFactory(owner=partner)
    assert webhook_event_emit(event="flag.decided", listing_id=listing.pk, data={}) == 1
    delivery = WebhookDelivery.objects.get()
    started = time.monotonic()
    webhook_delivery_attempt(delivery_id=delivery.pk)
    elapsed = time.monotonic() - started
    delivery.refresh_from_db()
    return delivery, elapsed


@pytest.fixture
def short_timeout(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_S = 1


def test_a_receiver_trickling_its_headers_is_cut_off_and_the_attempt_counted(
    short_timeout, partner
):
    # given a receiver that sends a header byte every 0.2 s: no single read ever waits 1 s
    receiver = TricklingReceiver(
        head=b"HTTP/1.1 200 OK\r\n", tail=b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    )
    try:
        # when a delivery is attempted
        delivery, elapsed = _attempt_once(partner, receiver.url)
    finally:
        receiver.close()
    # then the attempt ends near WEBHOOK_TIMEOUT_S, as a timeout, and is retried later
    assert elapsed < 5, f"the attempt took {elapsed:.1f} s"
    attempt = delivery.attempt_log.get()
    assert (attempt.error, attempt.status_code) == ("timeout", None)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at > timezone.now()


def test_the_answer_body_is_never_read(short_timeout, partner):
    # given a receiver that says 200 at once and then sends an endless body, slowly
    receiver = TricklingReceiver(
        head=b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n", tail=b"x" * 10_000
    )
    try:
        delivery, elapsed = _attempt_once(partner, receiver.url)
    finally:
        receiver.close()
    # then the 200 is what counts: delivered, without waiting for (or keeping) the body
    assert elapsed < 5, f"the attempt took {elapsed:.1f} s"
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert delivery.attempt_log.get().status_code == 200


def test_deliveries_waiting_behind_an_earlier_one_do_not_starve_due_retries(partner, settings):
    # given a receiver that was down: a listing's first event backs off, and many more events
    # of that listing wait behind it (due, but held back to keep the order)
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook_endpoint_create(owner=partner, url="http://127.0.0.1:9/hook", events=["flag.decided"])
    busy, other = ListingFactory(owner=partner), ListingFactory(owner=partner)
    for _ in range(4):
        webhook_event_emit(event="flag.decided", listing_id=busy.pk, data={})
    now = timezone.now()
    head = WebhookDelivery.objects.filter(listing_id=busy.pk).order_by("id").first()
    WebhookDelivery.objects.filter(pk=head.pk).update(
        attempts=3, next_attempt_at=now + timedelta(minutes=10)
    )
    WebhookDelivery.objects.filter(listing_id=busy.pk).exclude(pk=head.pk).update(
        next_attempt_at=now - timedelta(hours=1)
    )
    # and another listing's retry that is due now
    webhook_event_emit(event="flag.decided", listing_id=other.pk, data={})
    retry = WebhookDelivery.objects.get(listing_id=other.pk)
    WebhookDelivery.objects.filter(pk=retry.pk).update(
        attempts=2, next_attempt_at=now - timedelta(minutes=1)
    )
    # when the scan takes a batch smaller than the deliveries held back
    due = webhook_delivery_ids_due(limit=2)
    # then the retry is in it, and nothing that could not be sent now is
    assert due == [retry.pk]
