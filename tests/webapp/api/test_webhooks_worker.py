"""Events from the real chain: upload -> a real Celery worker recognises the photo and
cross-checks the listing -> signed webhooks reach a receiver on loopback, in order."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook

from tests.fixtures import images
from tests.fixtures.worker import Worker, wait_for
from tests.webapp.api.test_webhooks import Receiver
from webapp.listings.services import listing_create
from webapp.partners.models import WebhookDelivery
from webapp.partners.webhooks import webhook_endpoint_create

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
