"""An operator opens a gate by hand: the order, its hand-over to one device, its lapse, the
device's report, and the operator page."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from tests.webapp.gates.conftest import signed_headers
from webapp.gates import commands, services
from webapp.gates.models import AuditAction, DeviceRequest, GateAuditEntry, GateCommand, Passage

pytestmark = pytest.mark.django_db

COMMANDS = "/api/v1/gates/commands/"


def _poll(device, secret, **sign_overrides):
    headers = signed_headers(
        device_id=device.device_id, secret=secret, method="GET", path=COMMANDS, body=b"",
        **sign_overrides,
    )  # fmt: skip
    return Client().get(COMMANDS, headers=headers)


def _report(device, secret, command_id, result="opened", detail=""):
    query = urlencode({"command": command_id, "result": result, "detail": detail})
    path = f"{COMMANDS}done/?{query}"
    headers = signed_headers(
        device_id=device.device_id, secret=secret, method="POST", path=path, body=b""
    )
    return Client().post(path, data=b"", content_type="application/octet-stream", headers=headers)


def test_an_operator_opens_the_gate_from_its_page_and_the_order_is_audited(
    operator_client, moderator, gate
):
    response = operator_client.post(
        f"/gates/{gate.pk}/open/", {"reason": "driver at the intercom, plate bent"}, follow=True
    )
    assert response.status_code == 200
    order = GateCommand.objects.get()
    assert (order.gate, order.issued_by, order.action) == (gate, moderator, "open")
    assert order.reason == "driver at the intercom, plate bent"
    assert order.expires_at > timezone.now()
    page = response.content.decode()
    assert "driver at the intercom, plate bent" in page
    assert "Waiting for the device" in page
    [entry] = GateAuditEntry.objects.filter(action=AuditAction.GATE_OPENED)
    assert (entry.actor, entry.via, entry.gate) == (moderator, "operator page", gate)
    assert entry.after == {"command": order.pk, "reason": "driver at the intercom, plate bent"}


def test_an_order_needs_a_reason(operator_client, gate):
    response = operator_client.post(f"/gates/{gate.pk}/open/", {"reason": "   "}, follow=True)
    assert "Not opened" in response.content.decode()
    assert not GateCommand.objects.exists()
    assert not GateAuditEntry.objects.filter(action=AuditAction.GATE_OPENED).exists()


def test_outsiders_cannot_open_a_gate(client, outsider, gate):
    client.force_login(outsider)
    assert client.post(f"/gates/{gate.pk}/open/", {"reason": "let me in"}).status_code == 403
    assert not GateCommand.objects.exists()


def test_an_order_goes_to_one_device_once(device_with_secret, gate, moderator):
    device, secret = device_with_secret
    second = services.device_create(gate=gate)
    order = commands.command_open(gate=gate, by=moderator, reason="intercom")

    first_poll = _poll(device, secret)
    assert first_poll.status_code == 200
    [handed] = first_poll.json()["commands"]
    assert (handed["id"], handed["action"], handed["by"]) == (order.pk, "open", "moderator")
    assert handed["reason"] == "intercom"
    assert _poll(device, secret).json() == {"commands": []}
    assert _poll(second.device, second.secret).json() == {"commands": []}
    order.refresh_from_db()
    assert (order.device, order.taken_at is not None) == (device, True)


def test_an_order_of_another_gate_is_not_handed_out(device_with_secret, moderator):
    device, secret = device_with_secret
    other = services.gate_create(name="south")
    commands.command_open(gate=other, by=moderator, reason="intercom")
    assert _poll(device, secret).json() == {"commands": []}


def test_a_lapsed_order_is_never_handed_out(device_with_secret, gate, moderator):
    # given an order nobody took in time (the device was offline)
    device, secret = device_with_secret
    order = commands.command_open(gate=gate, by=moderator, reason="intercom")
    GateCommand.objects.filter(pk=order.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    # when the device comes back, then the gate does not open for a car long gone
    assert _poll(device, secret).json() == {"commands": []}
    order.refresh_from_db()
    assert order.taken_at is None
    assert commands.command_state(order) == "Lapsed: no device asked in time"


def test_the_device_reports_once_and_only_on_its_own_orders(device_with_secret, gate, moderator):
    device, secret = device_with_secret
    other = services.device_create(gate=gate)
    order = commands.command_open(gate=gate, by=moderator, reason="intercom")
    _poll(device, secret)

    assert _report(other.device, other.secret, order.pk).status_code == 404
    assert _report(device, secret, order.pk, result="exploded").status_code == 400
    done = _report(device, secret, order.pk)
    assert done.status_code == 200
    assert done.json() == {"command": order.pk, "result": "opened"}
    again = _report(device, secret, order.pk, result="failed", detail="resent")
    assert again.json()["result"] == "opened"  # the first report stands
    order.refresh_from_db()
    assert (order.result, order.done_at is not None) == ("opened", True)
    assert commands.command_state(order) == "Opened"


def test_polls_are_signed_and_an_empty_one_leaves_no_audit_row(device_with_secret, gate):
    device, secret = device_with_secret
    assert _poll(device, "forger").status_code == 401
    assert Client().get(COMMANDS).status_code == 401
    assert DeviceRequest.objects.filter(accepted=False).count() == 2

    assert _poll(device, secret).status_code == 200
    assert not DeviceRequest.objects.filter(accepted=True).exists()
    device.refresh_from_db()
    assert device.last_seen_at is not None

    services.device_revoke(device_id=device.device_id)
    commands.command_open(gate=gate, by=None, reason="test")
    refused = _poll(device, secret)
    assert (refused.status_code, refused.json()["code"]) == (403, "device_revoked")
    assert GateCommand.objects.get().taken_at is None


def test_a_replayed_poll_is_refused(device_with_secret):
    device, secret = device_with_secret
    headers = signed_headers(
        device_id=device.device_id, secret=secret, method="GET", path=COMMANDS, body=b""
    )
    assert Client().get(COMMANDS, headers=headers).status_code == 200
    replay = Client().get(COMMANDS, headers=headers)
    assert (replay.status_code, replay.json()["code"]) == (409, "replayed_nonce")


def test_the_live_page_offers_opening_by_hand_for_a_car_not_let_in(
    operator_client, device_with_secret, gate
):
    device, _ = device_with_secret
    now = timezone.now()
    for plate, decision in (("KA0101AM", "deny"), ("AA1234BB", "open")):
        Passage.objects.create(
            gate=gate, device=device, started_at=now, last_frame_at=now, voted_plate=plate,
            decision=decision,
        )  # fmt: skip
    page = operator_client.get("/gates/").content.decode()
    link = f'href="/gates/{gate.pk}/access/#open-now"'
    assert page.count(link) == 1
    denied_row = page.split('data-decision="deny"')[1].split("</tr>")[0]
    assert link in denied_row


def test_metrics_count_the_hours_orders_by_state(
    operator_client, device_with_secret, gate, settings
):
    # given: an order carried out, one no device took in time, one waiting, and an old one
    settings.METRICS_ALLOWED_ADDRESSES = []
    device, secret = device_with_secret
    opened = commands.command_open(gate=gate, by=None, reason="intercom")
    _poll(device, secret)
    _report(device, secret, opened.pk)
    lapsed = commands.command_open(gate=gate, by=None, reason="nobody asked")
    GateCommand.objects.filter(pk=lapsed.pk).update(expires_at=timezone.now())
    commands.command_open(gate=gate, by=None, reason="just now")
    old = commands.command_open(gate=gate, by=None, reason="yesterday")
    GateCommand.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1),
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    # when
    text = operator_client.get("/metrics").content.decode()
    # then
    assert 'platecheck_gate_orders{gate="north",state="opened"} 1.0' in text
    assert 'platecheck_gate_orders{gate="north",state="lapsed"} 1.0' in text
    assert 'platecheck_gate_orders{gate="north",state="waiting"} 1.0' in text
