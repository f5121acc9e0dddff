"""Webhooks against a real HTTP receiver on loopback (pytest-httpserver): Standard Webhooks
signatures, retries with every attempt visible, redelivery, disabling, order per listing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse

from tests.fixtures.factories import FlagFactory, ListingFactory
from webapp.partners.models import WebhookDelivery, WebhookEndpoint
from webapp.partners.tasks import webhooks_send_due
from webapp.review.services import flag_confirm

pytestmark = pytest.mark.django_db


class Receiver:
    """Records what reaches the hook; answers the status codes it is told, then 200."""

    def __init__(self, server: HTTPServer, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        server.expect_request("/hook", method="POST").respond_with_handler(self.handle)

    def handle(self, request: WerkzeugRequest) -> WerkzeugResponse:
        self.requests.append((dict(request.headers), request.get_data()))
        status = self.statuses.pop(0) if self.statuses else 200
        return WerkzeugResponse("ok", status=status)

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def endpoint(token_client, partner, httpserver: HTTPServer) -> dict:
    events = ["flag.decided", "photo.recognized", "listing.checked"]
    response = token_client(partner, scopes=["webhooks"]).post(
        "/api/v1/webhooks/endpoints/", {"url": httpserver.url_for("/hook"), "events": events},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()


def decide(moderator, flag, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        flag_confirm(flag_id=flag.pk, version=flag.version, user=moderator, note="internal: fraud")


def test_a_decision_is_delivered_signed(
    endpoint, partner, moderator, httpserver, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver)
    flag = FlagFactory(listing=ListingFactory(owner=partner))
    decide(moderator, flag, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    payload = Webhook(endpoint["secret"]).verify(body, headers)
    assert payload["type"] == "flag.decided"
    assert payload["data"]["flag_id"] == flag.pk
    assert payload["data"]["status"] == "confirmed"
    assert b"fraud" not in body  # moderator notes never reach partners
    assert headers["Webhook-Id"].startswith("msg_")
    forged = {**headers, "Webhook-Signature": "v1,AAAA"}
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoint["secret"]).verify(body, forged)


def test_failures_are_retried_with_backoff_and_every_attempt_is_visible(
    endpoint, token_client, partner, moderator, httpserver, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    receiver = Receiver(httpserver, statuses=[500, 503])
    flag = FlagFactory(listing=ListingFactory(owner=partner))
    decide(moderator, flag, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at > delivery.created_at  # backed off, not retried at once
    assert webhooks_send_due() == 0  # nothing due yet
    settings.WEBHOOK_BACKOFF_BASE_S = 0  # from now on every retry is due at once
    WebhookDelivery.objects.update(next_attempt_at=delivery.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_send_due()
        webhooks_send_due()
    assert len(receiver.requests) == 3
    assert {h["Webhook-Id"] for h, _ in receiver.requests} == {delivery.message_id}
    listed = token_client(partner, scopes=["webhooks"]).get("/api/v1/webhooks/deliveries/")
    shown = listed.json()["results"][0]
    assert shown["status"] == "delivered"
    assert [(a["number"], a["status_code"], a["error"]) for a in shown["attempt_log"]] == [
        (1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 200, ""),
    ]  # fmt: skip


def test_redelivery_sends_the_same_message_again(
    endpoint, token_client, partner, moderator, httpserver, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver)
    decide(
        moderator,
        FlagFactory(listing=ListingFactory(owner=partner)),
        django_capture_on_commit_callbacks,
    )
    delivery = WebhookDelivery.objects.get()
    client = token_client(partner, scopes=["webhooks"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202
    assert len(receiver.requests) == 2
    assert receiver.requests[0][1] == receiver.requests[1][1]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_partner_told(
    endpoint, token_client, partner, moderator, httpserver, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.WEBHOOK_RETRY_WINDOW_S = 0  # every failure is the last one of its window
    settings.WEBHOOK_DISABLE_AFTER = 2
    receiver = Receiver(httpserver, statuses=[500, 500])
    listing = ListingFactory(owner=partner)
    for key in ("a", "b"):
        decide(moderator, FlagFactory(listing=listing, key=key), django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 2
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["failed", "failed"]
    hook = WebhookEndpoint.objects.get()
    assert not hook.is_active
    assert "2 deliveries in a row failed" in hook.disabled_reason
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [partner.email]
    assert hook.url in mail.outbox[0].body
    client = token_client(partner, scopes=["webhooks"])
    assert client.get("/api/v1/webhooks/endpoints/").json()["results"][0]["is_active"] is False
    first = WebhookDelivery.objects.order_by("id").first()
    refused = client.post(f"/api/v1/webhooks/deliveries/{first.pk}/redeliver/")
    assert refused.json()["errors"][0]["code"] == "endpoint_disabled"
    assert client.post(f"/api/v1/webhooks/endpoints/{hook.pk}/enable/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/webhooks/deliveries/{first.pk}/redeliver/").status_code == 202
    assert len(receiver.requests) == 3
    first.refresh_from_db()
    assert first.status == "delivered"


def test_a_receiver_answering_410_gone_disables_its_endpoint_at_once_and_keeps_the_events(
    endpoint, token_client, partner, moderator, httpserver, admin_client,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # given a receiver that answers 410 Gone (Standard Webhooks: "stop sending"), then 200
    receiver = Receiver(httpserver, statuses=[410])
    listing = ListingFactory(owner=partner)
    first, second = (FlagFactory(listing=listing, key=k) for k in ("first", "second"))
    # when an event is sent to it
    decide(moderator, first, django_capture_on_commit_callbacks)
    # then the endpoint is disabled at once, not after a day of retries, and its partner told
    hook = WebhookEndpoint.objects.get()
    assert not hook.is_active
    assert "410 Gone" in hook.disabled_reason
    assert len(mail.outbox) == 1
    assert hook.url in mail.outbox[0].body
    # and the event is kept, pending, with its attempt visible
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.attempt_log.get().error == "HTTP 410"
    # and neither it nor a later event is sent while the endpoint is off, however overdue
    decide(moderator, second, django_capture_on_commit_callbacks)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_send_due() == 0
    assert len(receiver.requests) == 1
    # and the partner (API) and the staff (admin) see why
    client = token_client(partner, scopes=["webhooks"])
    shown = client.get(f"/api/v1/webhooks/endpoints/{hook.pk}/").json()
    assert (shown["is_active"], shown["disabled_reason"]) == (False, hook.disabled_reason)
    assert hook.disabled_reason in admin_client.get("/admin/partners/webhookendpoint/").text
    # when the partner enables it again
    assert client.post(f"/api/v1/webhooks/endpoints/{hook.pk}/enable/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_send_due()
    # then what waited is sent, in order
    assert [e["data"]["flag_id"] for e in receiver.events()] == [first.pk, first.pk, second.pk]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_events_of_one_listing_arrive_in_order_after_the_receiver_recovers(
    endpoint, partner, moderator, httpserver, settings, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver, statuses=[500])
    listing = ListingFactory(owner=partner)
    flags = [FlagFactory(listing=listing, key=k) for k in ("first", "second", "third")]
    for flag in flags:
        decide(moderator, flag, django_capture_on_commit_callbacks)
    # the first failed; the later two wait behind it instead of overtaking it
    assert len(receiver.requests) == 1
    assert list(WebhookDelivery.objects.values_list("attempts", flat=True)) == [1, 0, 0]
    settings.WEBHOOK_BACKOFF_BASE_S = 0
    WebhookDelivery.objects.update(next_attempt_at=WebhookDelivery.objects.first().created_at)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_send_due()
    sent = [e["data"]["flag_id"] for e in receiver.events()]
    assert sent == [flags[0].pk] + [f.pk for f in flags]  # first twice (failed, then ok)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_private_receivers_are_refused_in_production(token_client, partner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    client = token_client(partner, scopes=["webhooks"])
    for url in ("http://127.0.0.1:8000/hook", "https://127.0.0.1/hook", "https://10.0.0.5/h"):
        response = client.post(
            "/api/v1/webhooks/endpoints/", {"url": url, "events": ["flag.decided"]}, format="json"
        )
        assert response.status_code == 400, url
        assert response.json()["errors"][0]["code"] in {"https_required", "private_address"}


def test_staff_enable_a_disabled_endpoint_in_the_admin(partner, admin_client):
    # given an endpoint disabled after its receiver answered 410 Gone
    hook = WebhookEndpoint.objects.create(
        owner=partner, url="http://127.0.0.1:9/hook", events=["flag.decided"], secret="whsec_x",
        is_active=False, disabled_at=timezone.now(), disabled_reason="the receiver answered 410",
    )  # fmt: skip
    # when staff enable it
    response = admin_client.post(
        "/admin/partners/webhookendpoint/",
        {"action": "enable", "_selected_action": [hook.pk]},
        follow=True,
    )
    # then it is on again, its reason cleared
    assert response.status_code == 200
    hook.refresh_from_db()
    assert (hook.is_active, hook.disabled_reason, hook.disabled_at) == (True, "", None)


def test_gate_passages_are_for_gate_operators_not_partners(token_client, partner, moderator):
    # a partner may not subscribe to a car park's passages; a gate operator (staff) may
    body = {"url": "http://127.0.0.1:9/hook", "events": ["gate.passage", "site.overstay"]}
    refused = token_client(partner, scopes=["webhooks"]).post(
        "/api/v1/webhooks/endpoints/", body, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "invalid_events"
    assert not WebhookEndpoint.objects.filter(owner=partner).exists()
    made = token_client(moderator, scopes=["webhooks"]).post(
        "/api/v1/webhooks/endpoints/", body, format="json"
    )
    assert made.status_code == 201, made.content
    assert made.json()["events"] == ["gate.passage", "site.overstay"]
