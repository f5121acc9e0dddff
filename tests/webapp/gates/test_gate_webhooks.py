"""Gate webhooks: a passage's decisions reach the gate operators' receivers (a real HTTP server
on loopback), signed; partners get none."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse

from registry.watchlist import watch_entry_add
from tests.fixtures.gate_engine import frame_jpeg, teach
from webapp.gates import services, tasks
from webapp.gates.models import Direction, Gate, Passage, Site, Visit
from webapp.gates.visits import visit_record
from webapp.partners.webhooks import webhook_endpoint_create

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self, server: HTTPServer, path: str) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        server.expect_request(path, method="POST").respond_with_handler(self.handle)

    def handle(self, request: WerkzeugRequest) -> WerkzeugResponse:
        self.requests.append((dict(request.headers), request.get_data()))
        return WerkzeugResponse("ok", status=200)

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receivers(settings, httpserver, moderator, partner):
    """The operator's receiver (subscribed to gate.passage) and a partner's (to all it may)."""
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receivers listen on loopback
    operator = Receiver(httpserver, "/operator")
    partners = Receiver(httpserver, "/partner")
    endpoint = webhook_endpoint_create(
        owner=moderator, url=httpserver.url_for("/operator"), events=["gate.passage"]
    )
    webhook_endpoint_create(
        owner=partner, url=httpserver.url_for("/partner"),
        events=["flag.decided", "photo.recognized", "listing.checked", "gate.passage"],
    )  # fmt: skip
    return operator, partners, endpoint.secret


@pytest.fixture
def way_in(gate: Gate) -> Gate:
    """The conftest's gate, made the entry of a car park."""
    gate.site = Site.objects.create(name="Car park")
    gate.direction = Direction.ENTRY
    gate.save()
    return gate


def _frames(post_frame, gate_engine, plate: str, count: int, first: int, capture) -> list[str]:
    start = timezone.now().timestamp() - 10
    decisions = []
    for k in range(count):
        body = frame_jpeg(first + k)
        teach(gate_engine, body, plate)
        with capture(execute=True):  # the commit's callbacks: the deliveries are sent
            decisions.append(post_frame(body, captured_at=start + 0.5 * k).json()["decision"])
    return decisions


def test_a_block_listed_plate_reaches_the_operator_signed_and_no_partner(
    receivers, way_in, post_frame, gate_engine, django_capture_on_commit_callbacks
):
    operator, partners, secret = receivers
    services.block_entry_add(plate="BC7777AX", reason="reported stolen")
    # when: the stolen car comes to the gate (three frames: decided on the first)
    decisions = _frames(
        post_frame, gate_engine, "BC7777AX", 3, 600, django_capture_on_commit_callbacks
    )
    # then: one event, signed, as the gate refused it; the partner's receiver got nothing
    assert decisions == ["deny", "deny", "deny"]
    assert len(operator.requests) == 1
    headers, body = operator.requests[0]
    event = Webhook(secret).verify(body, headers)
    assert event["type"] == "gate.passage"
    data = event["data"]
    assert (data["plate"], data["decision"], data["blocked"]) == ("BC7777AX", "deny", True)
    assert (data["gate"], data["direction"], data["site"]) == (way_in.name, "entry", "Car park")
    assert data["reason"] == "BC7777AX is on the block-list"
    assert data["visit"] is None
    assert partners.requests == []


def test_a_watched_plate_is_let_through_as_the_gate_decides_and_the_operator_told(
    receivers, way_in, post_frame, gate_engine, django_capture_on_commit_callbacks, client,
    moderator, caplog,
):  # fmt: skip
    operator, partners, _ = receivers
    # given a permit holder's plate that the marketplace's watch list has as reported stolen
    services.access_entry_add(gate=way_in, plate="AA1234BB")
    watch_entry_add(plate="аа 1234 вв", reason="stolen", source="police notice")
    # when the car comes to the gate
    decisions = _frames(
        post_frame, gate_engine, "AA1234BB", 2, 650, django_capture_on_commit_callbacks
    )
    # then the gate's own rules decide (it opens), and the operator hears why to look
    assert decisions == ["open", "open"]
    (event,) = [e["data"] for e in operator.events()]
    assert (event["plate"], event["decision"], event["watched"]) == ("AA1234BB", "open", "stolen")
    assert partners.requests == []
    passage = Passage.objects.get(pk=event["passage_id"])
    assert passage.watched == "stolen"
    assert "AA1234BB is on the watch list (stolen)" in caplog.text
    # and the live page marks it, and /metrics counts it
    client.force_login(moderator)
    page = client.get("/gates/").content.decode()
    assert f'data-passage="{passage.pk}" data-decision="open" data-watched="stolen"' in page
    assert '<span class="status watched">watch list: reported stolen</span>' in page
    metrics = client.get("/metrics").content.decode()
    assert (
        f'platecheck_gate_watched_passages{{gate="{way_in.name}",reason="stolen"}} 1.0' in metrics
    )


def test_a_plate_off_the_watch_list_is_sent_unwatched(
    receivers, way_in, post_frame, gate_engine, django_capture_on_commit_callbacks
):
    operator, _, _ = receivers
    services.access_entry_add(gate=way_in, plate="AA1234BB")
    watch_entry_add(plate="AA1234BE", reason="fraud")  # one character away: another plate
    _frames(post_frame, gate_engine, "AA1234BB", 1, 660, django_capture_on_commit_callbacks)
    (event,) = [e["data"] for e in operator.events()]
    assert (event["decision"], event["watched"]) == ("open", None)


def test_each_change_of_decision_is_sent_with_the_stay_it_began(
    receivers, way_in, post_frame, gate_engine, django_capture_on_commit_callbacks
):
    operator, _, _ = receivers
    # given: a car not on the list: denied after the gate's frames
    capture = django_capture_on_commit_callbacks
    _frames(post_frame, gate_engine, "AA1234BB", way_in.deny_after_frames, 700, capture)
    # when: the operator lets it in, and the camera's next frame of the same passage arrives
    services.access_entry_add(gate=way_in, plate="AA1234BB")
    body = frame_jpeg(720)
    teach(gate_engine, body, "AA1234BB")
    at = timezone.now().timestamp() - 10 + 0.5 * way_in.deny_after_frames
    with capture(execute=True):
        assert post_frame(body, captured_at=at).json()["decision"] == "open"
    # then: two events, deny then open, the open one with the car's stay on site
    events = [e["data"] for e in operator.events()]
    assert [(e["decision"], e["blocked"]) for e in events] == [("deny", False), ("open", False)]
    assert events[0]["passage_id"] == events[1]["passage_id"]
    assert events[1]["visit"]["state"] == "inside"
    assert events[1]["visit"]["entered_at"] is not None


def test_a_car_past_its_sites_limit_is_sent_once_and_others_not(
    settings, httpserver, moderator, partner, django_capture_on_commit_callbacks
):
    # given: a site allowing 10 h; one car in for 11 h, one for 2 h, one that stayed 12 h and
    # left; the operator's and a partner's receivers
    settings.WEBHOOK_ALLOW_PRIVATE = True
    operator, partners = Receiver(httpserver, "/operator"), Receiver(httpserver, "/partner")
    webhook_endpoint_create(
        owner=moderator, url=httpserver.url_for("/operator"), events=["site.overstay"]
    )
    webhook_endpoint_create(
        owner=partner, url=httpserver.url_for("/partner"), events=["site.overstay"]
    )
    site = Site.objects.create(name="Car park", max_stay_hours=10)
    way_in = Gate.objects.create(name="in", site=site, direction=Direction.ENTRY)
    way_out = Gate.objects.create(name="out", site=site, direction=Direction.EXIT)
    now = timezone.now()
    _stay(way_in, "AA1111AA", now - timedelta(hours=11))
    _stay(way_in, "BB2222BB", now - timedelta(hours=2))
    _stay(way_in, "CC3333CC", now - timedelta(hours=13))
    _stay(way_out, "CC3333CC", now - timedelta(hours=1))
    # when: the check runs twice
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.overstays_alert()
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.overstays_alert()
    # then: the car past the limit, once, to the operator only
    assert (first, second) == (1, 0)
    (event,) = operator.events()
    assert event["type"] == "site.overstay"
    data = event["data"]
    assert (data["site"], data["plate"], data["max_stay_hours"]) == ("Car park", "AA1111AA", 10)
    assert data["over_by_minutes"] == pytest.approx(60, abs=1)
    assert data["visit"]["state"] == "inside"
    assert partners.requests == []
    assert Visit.objects.get(plate="AA1111AA").overstay_alerted_at is not None


def _stay(gate: Gate, plate: str, at) -> None:  # type: ignore[no-untyped-def]
    device = gate.devices.first() or services.device_create(gate=gate).device
    passage = Passage.objects.create(
        gate=gate, device=device, started_at=at, last_frame_at=at, voted_plate=plate,
        decision="open", decided_at=at,
    )  # fmt: skip
    visit_record(passage=passage)


@pytest.mark.parametrize(
    ("entry", "task", "seconds"),
    [("gates-overstays", "overstays_alert", 300), ("gates-stale-stays", "stale_stays_close", 3600)],
)
def test_beat_schedules_the_gates_housekeeping(settings, entry, task, seconds):
    from webapp.celery import app

    scheduled = settings.CELERY_BEAT_SCHEDULE[entry]
    app.loader.import_default_modules()
    assert scheduled["task"] == getattr(tasks, task).name
    assert scheduled["task"] in app.tasks
    assert scheduled["schedule"] == seconds
