"""Webhook receivers inside our network stay unreachable in production (SSRF), however the URL
is spelt and whatever its name resolves to by the time of the delivery.

- A backslash in the authority: the standard library's parser reads the host after the `@`,
  urllib3 (the sender) before the backslash, so the check must read the URL as the sender does.
- DNS rebinding: a name that answers a public address to the check and a loopback one to the
  connection must not reach loopback; the address is checked as the connection is made.

A real listener on 127.0.0.1 stands for the internal service; only name resolution is faked.
"""

from __future__ import annotations

import socket
import threading

import pytest

from tests.fixtures.factories import ListingFactory
from webapp.partners.models import WebhookDelivery
from webapp.partners.webhooks import webhook_delivery_attempt, webhook_event_emit

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # any global address: what the attacker's name answers to the check


class LoopbackListener:
    """A TCP listener on 127.0.0.1 (an internal service) that counts who connects to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.first_bytes = b""
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.settimeout(1)
            try:
                self.first_bytes += conn.recv(64)
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    listening = LoopbackListener()
    yield listening
    listening.close()


def _deliver_once(partner) -> WebhookDelivery:
    listing = ListingFactory(owner=partner)
    assert webhook_event_emit(event="flag.decided", listing_id=listing.pk, data={}) == 1
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_a_backslash_in_the_authority_does_not_reach_loopback(
    token_client, partner, settings, monkeypatch, listener
):
    settings.WEBHOOK_ALLOW_PRIVATE = False  # production
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "receiver.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = f"https://127.0.0.1:{listener.port}\\@receiver.example/hook"
    response = token_client(partner, scopes=["webhooks"]).post(
        "/api/v1/webhooks/endpoints/", {"url": url, "events": ["flag.decided"]}, format="json"
    )
    created = response.status_code
    if created == 201:
        _deliver_once(partner)
    # refused at registration, and nothing reaches 127.0.0.1
    assert (created, listener.connections) == (400, 0), (
        f"registration answered {created}; the delivery opened {listener.connections} "
        f"connection(s) to 127.0.0.1:{listener.port} (first bytes {listener.first_bytes[:8]!r})"
    )


def test_a_name_rebound_to_loopback_after_the_check_is_not_reached(
    token_client, partner, settings, monkeypatch, listener
):
    settings.WEBHOOK_ALLOW_PRIVATE = False  # production
    real = socket.getaddrinfo
    answers = []

    def rebinding_dns(host, port, *args, **kwargs):
        # TTL 0: the attacker's server answers a public address twice (the check at
        # registration, the check before the delivery), then 127.0.0.1.
        if host == "rebind.example":
            address = PUBLIC if len(answers) < 2 else "127.0.0.1"
            answers.append(address)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    url = f"https://rebind.example:{listener.port}/hook"
    response = token_client(partner, scopes=["webhooks"]).post(
        "/api/v1/webhooks/endpoints/", {"url": url, "events": ["flag.decided"]}, format="json"
    )
    assert response.status_code == 201, response.content
    delivery = _deliver_once(partner)
    assert delivery.attempt_log.get().error == "private_address"
    assert listener.connections == 0, (
        f"resolutions {answers}: the delivery connected to 127.0.0.1:{listener.port} "
        f"(attempt error {delivery.attempt_log.get().error!r})"
    )
