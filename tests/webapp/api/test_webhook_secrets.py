"""Rotating an endpoint's signing secret without downtime: for WEBHOOK_SECRET_GRACE_S after a
rotation each message carries a signature by the new secret and one by the old, so a receiver
still verifying with the old secret keeps working until it switches. Checked against a real
receiver on loopback with the standardwebhooks library, as a partner would verify."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.fixtures.factories import FlagFactory, ListingFactory
from tests.webapp.api.test_webhooks import Receiver, decide
from webapp.partners.models import WebhookEndpoint
from webapp.partners.webhooks import webhook_endpoint_create

pytestmark = pytest.mark.django_db

GRACE_S = 24 * 3600


@pytest.fixture
def hook(partner, httpserver: HTTPServer) -> WebhookEndpoint:
    return webhook_endpoint_create(
        owner=partner, url=httpserver.url_for("/hook"), events=["flag.decided"]
    )


def test_a_rotated_secret_signs_with_the_old_one_too_until_the_grace_period_ends(
    hook, token_client, partner, moderator, httpserver, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.WEBHOOK_SECRET_GRACE_S = GRACE_S
    receiver = Receiver(httpserver)
    old = hook.secret
    listing = ListingFactory(owner=partner)
    client = token_client(partner, scopes=["webhooks"])

    # when the partner rotates the secret
    rotated = client.post(f"/api/v1/webhooks/endpoints/{hook.pk}/rotate-secret/")

    # then the answer holds the new secret (once) and when the old one stops signing
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    ends = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    left = ends - datetime.fromisoformat(rotated.json()["secret_rotated_at"])
    assert left == timedelta(seconds=GRACE_S)
    shown = client.get(f"/api/v1/webhooks/endpoints/{hook.pk}/").json()
    assert "secret" not in shown
    assert shown["previous_secret_expires_at"] == rotated.json()["previous_secret_expires_at"]

    # and during the grace period a message verifies with either secret
    during = FlagFactory(listing=listing, key="during")
    decide(moderator, during, django_capture_on_commit_callbacks)
    headers, body = receiver.requests[-1]
    assert len(headers["Webhook-Signature"].split(" ")) == 2
    assert Webhook(new).verify(body, headers) == Webhook(old).verify(body, headers)

    # when the grace period has passed (moved into the past here rather than waited for)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(
        previous_secret_expires_at=datetime.fromisoformat(shown["secret_rotated_at"])
        - timedelta(seconds=1)
    )
    after = FlagFactory(listing=listing, key="after")
    decide(moderator, after, django_capture_on_commit_callbacks)

    # then only the new secret verifies
    headers, body = receiver.requests[-1]
    assert len(headers["Webhook-Signature"].split(" ")) == 1
    assert Webhook(new).verify(body, headers)["data"]["flag_id"] == after.pk
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(old).verify(body, headers)
    assert len(receiver.requests) == 2


def test_rotating_again_within_the_grace_period_retires_the_first_secret(
    hook, token_client, partner, moderator, httpserver, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver)
    first = hook.secret
    client = token_client(partner, scopes=["webhooks"])
    second = client.post(f"/api/v1/webhooks/endpoints/{hook.pk}/rotate-secret/").json()["secret"]
    third = client.post(f"/api/v1/webhooks/endpoints/{hook.pk}/rotate-secret/").json()["secret"]
    decide(
        moderator,
        FlagFactory(listing=ListingFactory(owner=partner)),
        django_capture_on_commit_callbacks,
    )
    headers, body = receiver.requests[-1]
    Webhook(third).verify(body, headers)
    Webhook(second).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(body, headers)


def test_only_the_owner_with_the_webhooks_scope_rotates_a_secret(
    hook, token_client, partner, other_partner
):
    url = f"/api/v1/webhooks/endpoints/{hook.pk}/rotate-secret/"
    assert token_client(other_partner).post(url).status_code == 404
    assert token_client(partner, scopes=["read"]).post(url).status_code == 403
    hook.refresh_from_db()
    assert hook.previous_secret == ""


def test_staff_rotate_a_secret_in_the_admin_and_see_the_new_one_once(hook, admin_client, settings):
    settings.WEBHOOK_SECRET_GRACE_S = GRACE_S
    old = hook.secret
    response = admin_client.post(
        "/admin/partners/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [hook.pk]},
        follow=True,
    )
    assert response.status_code == 200
    hook.refresh_from_db()
    assert (hook.previous_secret, hook.secret != old) == (old, True)
    assert hook.secret in response.text
    assert hook.previous_secret_expires_at - hook.secret_rotated_at == timedelta(seconds=GRACE_S)
    # the detail page never shows either secret
    page = admin_client.get(f"/admin/partners/webhookendpoint/{hook.pk}/change/").text
    assert hook.secret not in page
    assert old not in page
