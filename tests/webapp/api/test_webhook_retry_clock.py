"""When a delivery is due is set and read on the database's clock, as leases are: a worker (or
web process) whose own clock drifts sends a retry neither early nor late.

A drifting clock is the system's edge, so it is the one double here: `timezone.now` of the
webhooks module, moved by minutes; the database and the receiver (on loopback) are real.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db.models.functions import Now
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Response as WerkzeugResponse

from tests.fixtures.factories import ListingFactory
from webapp.partners import webhooks
from webapp.partners.models import WebhookDelivery
from webapp.partners.webhooks import (
    webhook_delivery_attempt,
    webhook_delivery_ids_due,
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_event_emit,
)

pytestmark = pytest.mark.django_db

# Far beyond the backoff of a first failure (WEBHOOK_BACKOFF_BASE_S, 5 s by default).
DRIFT = timedelta(minutes=10)


@pytest.fixture
def skew_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Moves the clock of the webhooks code by `drift`; the database keeps the right time."""
    real_now = timezone.now

    def skew(drift: timedelta) -> None:
        monkeypatch.setattr(webhooks.timezone, "now", lambda: real_now() + drift)

    return skew


@pytest.fixture
def delivery(partner, httpserver: HTTPServer, settings) -> WebhookDelivery:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint = webhook_endpoint_create(
        owner=partner, url=httpserver.url_for("/hook"), events=["flag.decided"]
    )
    listing_id = ListingFactory(owner=partner).pk
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="flag.decided",
        message_id="msg_clock",
        listing_id=listing_id,
        payload={"type": "flag.decided", "data": {"listing_id": listing_id}},
    )


def _due_in(delivery: WebhookDelivery, wait: timedelta) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=Now() + wait)


def _database_now() -> datetime:
    return WebhookDelivery.objects.annotate(database_now=Now()).values_list(
        "database_now", flat=True
    )[0]


@pytest.mark.parametrize(
    ("drift", "due_in", "sent"),
    [
        pytest.param(-DRIFT, timedelta(minutes=-1), True, id="behind-a-due-retry-is-sent"),
        pytest.param(DRIFT, timedelta(minutes=5), False, id="ahead-no-retry-is-sent-early"),
    ],
)
def test_a_worker_sends_a_retry_when_the_database_clock_says_it_is_due(
    delivery, httpserver, skew_clock, drift, due_in, sent
):
    # given a retry due `due_in` from now, and a worker whose clock is `drift` off
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    _due_in(delivery, due_in)
    skew_clock(drift)
    # when the worker scans and tries to send it
    due = webhook_delivery_ids_due()
    status = webhook_delivery_attempt(delivery_id=delivery.pk)
    # then it is sent exactly when the database's clock says it is due
    assert (due, status) == (([delivery.pk], "delivered") if sent else ([], None))
    assert len(httpserver.log) == (1 if sent else 0)


def test_a_retry_backed_off_by_a_worker_whose_clock_runs_behind_does_not_come_early(
    delivery, httpserver, skew_clock
):
    # given a due delivery, a receiver failing it, and a worker whose clock runs behind
    httpserver.expect_request("/hook", method="POST").respond_with_response(
        WerkzeugResponse("down", status=500)
    )
    _due_in(delivery, timedelta(hours=-1))
    skew_clock(-DRIFT)
    # when the worker's attempt fails and the delivery backs off
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "pending"
    # then the retry lies ahead on the database's clock, for every worker
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > _database_now()
    skew_clock(timedelta(0))
    assert webhook_delivery_ids_due() == []


def test_an_event_emitted_by_a_process_whose_clock_runs_ahead_is_due_at_once(
    partner, delivery, skew_clock
):
    # given a web process whose clock runs ahead
    WebhookDelivery.objects.all().delete()
    skew_clock(DRIFT)
    # when it emits an event
    assert webhook_event_emit(event="flag.decided", listing_id=ListingFactory(owner=partner).pk)
    # then the delivery is due now, not once the database's clock catches up
    skew_clock(timedelta(0))
    assert webhook_delivery_ids_due() == [WebhookDelivery.objects.get().pk]


def test_a_redelivery_asked_of_a_process_whose_clock_runs_ahead_is_due_at_once(
    delivery, skew_clock
):
    # given a failed delivery, and a process whose clock runs ahead
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED)
    skew_clock(DRIFT)
    # when the partner asks for it again
    webhook_delivery_redeliver(delivery=delivery)
    # then it is due now
    skew_clock(timedelta(0))
    assert webhook_delivery_ids_due() == [delivery.pk]
