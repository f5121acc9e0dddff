"""Events from the real chain: upload -> a real Celery worker recognises the photo and
cross-checks the listing -> signed webhooks reach a receiver on loopback, in order. And what
the broker holds for webhooks while no worker runs."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.db import transaction
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook

from tests.fixtures import images
from tests.fixtures.factories import ListingFactory
from tests.fixtures.worker import Worker, wait_for
from tests.webapp.api.test_webhooks import Receiver
from webapp.listings.services import listing_create
from webapp.partners.models import WebhookDelivery
from webapp.partners.tasks import webhooks_send_due
from webapp.partners.webhooks import webhook_endpoint_create, webhook_event_emit

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Generous: the worker shares two CPU cores with other jobs.
EVENTS_TIMEOUT_S = 90


@pytest.fixture
def loopback_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by the worker process at start: it must be set before the worker fixture runs.
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "1")


def test_recognition_and_crosscheck_reach_the_partner_signed_and_in_order(
    loopback_receivers_allowed: None,
    celery_worker: Worker,
    engine_control: Path,
    partner,
    httpserver: HTTPServer,
) -> None:
    receiver = Receiver(httpserver)
    hook = webhook_endpoint_create(
        owner=partner,
        url=httpserver.url_for("/hook"),
        events=["photo.recognized", "listing.checked"],
    )
    listing, added = listing_create(
        marketplace_id="MP-HOOK-1", owner=partner, photos=[io.BytesIO(images.jpeg())]
    )
    try:
        wait_for(lambda: len(receiver.requests) >= 2, timeout=EVENTS_TIMEOUT_S, what="2 events")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; worker log:\n{celery_worker.log()}") from None
    verified = [Webhook(hook.secret).verify(body, headers) for headers, body in receiver.requests]
    assert [e["type"] for e in verified] == ["photo.recognized", "listing.checked"]
    assert verified[0]["data"] == {
        "listing_id": listing.pk, "marketplace_id": "MP-HOOK-1", "photo_id": added[0].photo.pk,
    }  # fmt: skip

    # and the worker records each delivery once the receiver has answered: a moment after the
    # receiver has it, so it is waited for (a delivery left pending times out here)
    def statuses() -> set[str]:
        return set(WebhookDelivery.objects.values_list("status", flat=True))

    wait_for(lambda: statuses() == {"delivered"}, timeout=10, what="both deliveries recorded")
    assert WebhookDelivery.objects.count() == 2


def test_messages_sent_while_no_worker_runs_expire_and_the_next_scan_delivers_once(
    loopback_receivers_allowed: None,
    celery_worker: Worker,
    partner,
    httpserver: HTTPServer,
    settings,
) -> None:
    # given: the worker is down while an event is sent at commit and two scans send it again
    receiver = Receiver(httpserver)
    webhook_endpoint_create(owner=partner, url=httpserver.url_for("/hook"), events=["flag.decided"])
    listing = ListingFactory(owner=partner)
    settings.WEBHOOK_SCAN_S = 1  # the messages sent now expire after two scans: 2 s
    celery_worker.stop()
    with transaction.atomic():
        assert webhook_event_emit(event="flag.decided", listing_id=listing.pk) == 1
    assert webhooks_send_due() == 1
    assert webhooks_send_due() == 1
    time.sleep(2.5)

    # when: a worker starts
    celery_worker.start()

    # then: it drops the three stale messages without running them
    def discarded() -> int:
        log = celery_worker.log_path.read_text(errors="replace")
        return log.count("Discarding revoked task: webapp.partners.tasks.webhook_deliver[")

    try:
        wait_for(lambda: discarded() >= 3, timeout=30, what="3 expired messages dropped")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; worker log:\n{celery_worker.log()}") from None
    assert receiver.requests == []
    assert WebhookDelivery.objects.values_list("status", "attempts").get() == ("pending", 0)

    # and the next scan's message delivers it, once
    settings.WEBHOOK_SCAN_S = 15
    assert webhooks_send_due() == 1
    wait_for(
        lambda: WebhookDelivery.objects.filter(status="delivered").exists(),
        timeout=EVENTS_TIMEOUT_S,
        what="the delivery recorded",
    )
    assert len(receiver.requests) == 1
    assert discarded() == 3
