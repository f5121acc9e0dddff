"""The order of one listing's events: what a partner receives follows the order the events were
committed in, and a redelivery a partner asked for goes out on its own, outside that order.

The emitters are threads with their own database connections, as two GPU workers storing
readings for photos of one listing are; the receiver is a real HTTP server on loopback.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone
from pytest_httpserver import HTTPServer

from tests.fixtures.factories import FlagFactory, ListingFactory
from tests.fixtures.locks import until_done_or_waiting_for_a_lock
from tests.webapp.api.test_webhooks import Receiver, decide
from webapp.partners.models import WebhookDelivery
from webapp.partners.tasks import webhooks_send_due
from webapp.partners.webhooks import webhook_endpoint_create, webhook_event_emit

# How long a thread waits for the other one; generous, the machine is shared.
LOCK_WAIT_S = 20


@pytest.fixture
def endpoint(partner, httpserver: HTTPServer) -> None:
    webhook_endpoint_create(
        owner=partner,
        url=httpserver.url_for("/hook"),
        events=["flag.decided", "photo.recognized"],
    )


def _emitters(deliveries) -> list[str]:
    return [d.payload["data"]["emitter"] for d in deliveries]


@pytest.mark.django_db(transaction=True)
def test_events_emitted_in_overlapping_transactions_reach_the_partner_in_commit_order(
    endpoint, partner, httpserver: HTTPServer
):
    # given a partner's endpoint, and two workers storing readings of one listing's photos
    receiver = Receiver(httpserver)
    listing_id = ListingFactory(owner=partner).pk
    first_open, first_may_commit = threading.Event(), threading.Event()

    def emit(name: str) -> None:
        try:
            with transaction.atomic():
                webhook_event_emit(
                    event="photo.recognized", listing_id=listing_id, data={"emitter": name}
                )
                if name == "first":
                    first_open.set()
                    first_may_commit.wait(LOCK_WAIT_S)
        finally:
            connections.close_all()  # this thread's own connection

    first = threading.Thread(target=emit, args=("first",), daemon=True)
    second = threading.Thread(target=emit, args=("second",), daemon=True)
    first.start()
    assert first_open.wait(LOCK_WAIT_S), "the first emitter never emitted"
    # when the second emits while the first one's transaction is still open
    second.start()
    until_done_or_waiting_for_a_lock(second, LOCK_WAIT_S)
    committed_while_first_open = _emitters(WebhookDelivery.objects.order_by("id"))
    first_may_commit.set()
    first.join(LOCK_WAIT_S)
    second.join(LOCK_WAIT_S)
    # then the second emitter's delivery has the larger id
    by_id = _emitters(WebhookDelivery.objects.order_by("id"))
    assert by_id == ["first", "second"]
    # and the deliveries were committed in that order: none before an earlier one
    commit_order = committed_while_first_open + [
        e for e in by_id if e not in committed_while_first_open
    ]
    assert commit_order == by_id, "committed while the first emitter's transaction was open"
    # and the partner received them in that order
    assert [e["data"]["emitter"] for e in receiver.events()] == by_id
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def _redeliver(client, delivery: WebhookDelivery, capture) -> None:
    with capture(execute=True):
        response = client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202, response.content


def _sent(receiver: Receiver) -> list[int]:
    return [e["data"]["flag_id"] for e in receiver.events()]


@pytest.mark.django_db
def test_a_redelivery_retrying_against_a_failing_receiver_does_not_hold_back_newer_events(
    endpoint, token_client, partner, moderator, httpserver, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # given an event delivered long ago, redelivered at the partner's request to a receiver
    # that fails it now: the redelivery backs off
    receiver = Receiver(httpserver, statuses=[200, 500])
    listing = ListingFactory(owner=partner)
    old, new = (FlagFactory(listing=listing, key=k) for k in ("old", "new"))
    decide(moderator, old, django_capture_on_commit_callbacks)
    redelivered = WebhookDelivery.objects.get()
    _redeliver(
        token_client(partner, scopes=["webhooks"]), redelivered, django_capture_on_commit_callbacks
    )
    redelivered.refresh_from_db()
    assert (redelivered.status, redelivered.attempts) == ("pending", 2)
    # when the listing has a newer event
    decide(moderator, new, django_capture_on_commit_callbacks)
    # then it is sent at once, not after the redelivery's retries
    assert _sent(receiver) == [old.pk, old.pk, new.pk]
    assert WebhookDelivery.objects.get(pk__gt=redelivered.pk).status == "delivered"
    # and the redelivery, due again, is sent with its own webhook-id, though newer events of
    # its listing were delivered meanwhile
    settings.WEBHOOK_BACKOFF_BASE_S = 0
    WebhookDelivery.objects.filter(pk=redelivered.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_send_due() == 1
    assert _sent(receiver) == [old.pk, old.pk, new.pk, old.pk]
    ids = [headers["Webhook-Id"] for headers, _ in receiver.requests]
    assert ids[0] == ids[1] == ids[3] == redelivered.message_id != ids[2]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db
def test_a_redelivery_is_not_held_back_by_an_older_redelivery_still_retrying(
    endpoint, token_client, partner, moderator, httpserver, django_capture_on_commit_callbacks
):
    # given two delivered events of one listing, and the older one redelivered to a receiver
    # that fails it: it backs off, pending
    receiver = Receiver(httpserver, statuses=[200, 200, 500])
    listing = ListingFactory(owner=partner)
    flags = [FlagFactory(listing=listing, key=k) for k in ("older", "newer")]
    for flag in flags:
        decide(moderator, flag, django_capture_on_commit_callbacks)
    older, newer = WebhookDelivery.objects.order_by("id")
    client = token_client(partner, scopes=["webhooks"])
    _redeliver(client, older, django_capture_on_commit_callbacks)
    older.refresh_from_db()
    assert older.status == "pending"
    # when the partner asks for the newer one again
    _redeliver(client, newer, django_capture_on_commit_callbacks)
    # then it is sent at once
    assert _sent(receiver) == [flags[0].pk, flags[1].pk, flags[0].pk, flags[1].pk]
    newer.refresh_from_db()
    assert (newer.status, newer.attempts) == ("delivered", 2)


@pytest.mark.django_db
def test_redelivering_a_delivery_still_pending_keeps_its_place_in_the_order(
    endpoint, token_client, partner, moderator, httpserver, django_capture_on_commit_callbacks
):
    # given a listing's first event failing (never delivered) and a second one waiting behind it
    receiver = Receiver(httpserver, statuses=[500, 500])
    listing = ListingFactory(owner=partner)
    flags = [FlagFactory(listing=listing, key=k) for k in ("first", "second")]
    for flag in flags:
        decide(moderator, flag, django_capture_on_commit_callbacks)
    first, second = WebhookDelivery.objects.order_by("id")
    assert _sent(receiver) == [flags[0].pk]
    # when the partner asks for the first one now, and the receiver fails it again
    _redeliver(
        token_client(partner, scopes=["webhooks"]), first, django_capture_on_commit_callbacks
    )
    # then the second still waits: it was never sent, so it keeps its place in the order
    assert _sent(receiver) == [flags[0].pk, flags[0].pk]
    second.refresh_from_db()
    assert (second.status, second.attempts) == ("pending", 0)
    # and is sent once the first is delivered
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_send_due()
    assert _sent(receiver) == [flags[0].pk, flags[0].pk, flags[0].pk, flags[1].pk]
