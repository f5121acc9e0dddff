"""Anti-passback: a site's entry gate refuses a plate already on site (a second car wearing it,
a cloned plate), through the device endpoint with the engine double."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from tests.fixtures.gate_engine import frame_jpeg, teach
from tests.webapp.gates.conftest import frame_poster
from webapp.gates import rules, services
from webapp.gates.models import Direction, Gate, Site, Visit
from webapp.gates.visits import visit_close
from webapp.partners.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PLATE = "AA1234BB"
_SEEDS = itertools.count(600)  # a distinct frame for every shot


@pytest.fixture
def site() -> Site:
    return Site.objects.create(name="Car park", capacity=40, anti_passback=True)


@pytest.fixture
def way_in(site: Site) -> Gate:
    gate = Gate.objects.create(name="in", site=site, direction=Direction.ENTRY)
    services.access_entry_add(gate=gate, plate=PLATE)
    return gate


@pytest.fixture
def way_out(site: Site) -> Gate:
    return Gate.objects.create(name="out", site=site, direction=Direction.EXIT, open_to_all=True)


class Camera:
    """A camera of `gate`: each shot a new frame showing `plate`, taken `minutes` from start."""

    def __init__(self, gate: Gate, engine, start: float) -> None:
        new = services.device_create(gate=gate)
        self.post = frame_poster(new.device, new.secret)
        self.engine, self.start = engine, start

    def shoot(self, plate: str, minutes: float) -> dict:
        body = frame_jpeg(next(_SEEDS))
        teach(self.engine, body, plate)
        return self.post(body, captured_at=self.start + 60 * minutes).json()


@pytest.fixture
def start() -> float:
    return timezone.now().timestamp() - 6 * 3600


def test_a_second_car_with_a_plate_on_site_is_refused_at_the_entry(
    gate_engine, way_in, start, moderator
):
    WebhookEndpoint.objects.create(
        owner=moderator, url="http://127.0.0.1:9/hook", events=["gate.passage"], secret="s" * 32
    )
    camera = Camera(way_in, gate_engine, start)
    assert camera.shoot(PLATE, 0)["decision"] == "open"

    # an hour later, no exit seen: the same plate again (a clone, or a permit passed back)
    answer = camera.shoot(PLATE, 60)
    assert answer["decision"] == "deny", answer
    assert "on site already (entered " in answer["reason"]
    assert list(Visit.objects.values_list("state", flat=True)) == ["inside"]  # the first stay
    # at a gate that admits a look-alike reading, the look-alike is the same plate on site
    way_in.allow_confusable = True
    way_in.save()
    assert camera.shoot("AA1234B8", 120)["decision"] == "deny"
    # the operators' system hears of it as such
    sent = [d.payload["data"] for d in WebhookDelivery.objects.order_by("id")]
    assert [(d["decision"], d["passback"]) for d in sent] == [
        ("open", False), ("deny", True), ("deny", True),
    ]  # fmt: skip


def test_the_same_car_seen_again_at_the_barrier_is_let_in(gate_engine, way_in, start):
    camera = Camera(way_in, gate_engine, start)
    assert camera.shoot(PLATE, 0)["decision"] == "open"
    # a new passage a minute later (the car waited at the barrier): the same arrival
    assert camera.shoot(PLATE, 1)["decision"] == "open"
    assert Visit.objects.count() == 1


def test_after_its_exit_or_an_operators_has_left_the_car_may_enter_again(
    gate_engine, way_in, way_out, start, moderator
):
    entry, exit_ = Camera(way_in, gate_engine, start), Camera(way_out, gate_engine, start)
    assert entry.shoot(PLATE, 0)["decision"] == "open"
    assert exit_.shoot(PLATE, 30)["decision"] == "open"
    assert entry.shoot(PLATE, 60)["decision"] == "open"
    # its exit missed: refused until an operator takes it off the site
    assert entry.shoot(PLATE, 120)["decision"] == "deny"
    inside = Visit.objects.get(state=Visit.State.INSIDE)
    visit_close(site=way_in.site, visit_id=inside.pk, user=moderator)
    assert entry.shoot(PLATE, 180)["decision"] == "open"


def test_without_anti_passback_the_plate_enters_again_and_the_old_stay_ends_unseen(
    gate_engine, way_in, site, start
):
    site.anti_passback = False
    site.save()
    camera = Camera(way_in, gate_engine, start)
    assert camera.shoot(PLATE, 0)["decision"] == "open"
    assert camera.shoot(PLATE, 60)["decision"] == "open"
    assert sorted(Visit.objects.values_list("state", flat=True)) == ["exit_unseen", "inside"]


def test_exits_and_other_plates_are_not_held_back(gate_engine, way_in, way_out, start):
    services.access_entry_add(gate=way_in, plate="KA0101AM")
    entry, exit_ = Camera(way_in, gate_engine, start), Camera(way_out, gate_engine, start)
    assert entry.shoot(PLATE, 0)["decision"] == "open"
    assert entry.shoot("KA0101AM", 10)["decision"] == "open"
    assert exit_.shoot(PLATE, 20)["decision"] == "open"
    assert exit_.shoot(PLATE, 40)["decision"] == "open"  # no passback on the way out


def test_the_rule_refuses_only_what_would_open_and_the_block_list_still_wins():
    vote = rules.Vote(plate=PLATE, confidence=0.9)
    common = {"frames": 1, "allow_confusable": False, "min_confidence": 0.6,
              "deny_after_frames": 5, "inside_since": "2026-12-05 08:00"}  # fmt: skip
    refused = rules.decide(voted=vote, allowed=[PLATE], blocked=[], **common)
    assert (refused.decision, refused.passback) == ("deny", True)
    assert refused.reason == f"{PLATE} is on site already (entered 2026-12-05 08:00, no exit seen)"
    blocked = rules.decide(voted=vote, allowed=[PLATE], blocked=[PLATE], **common)
    assert (blocked.blocked, blocked.passback) == (True, False)
    pending = rules.decide(voted=vote, allowed=["KA0101AM"], blocked=[], **common)
    assert (pending.decision, pending.passback) == ("unknown", False)
    let_in = rules.decide(voted=vote, allowed=[PLATE], blocked=[], **{**common, "inside_since": ""})
    assert let_in.decision == "open"
