"""Visits: a site's entry and exit gates opening for a plate make its stays, in capture order."""

from __future__ import annotations

import csv
import io
import threading
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.fixtures.gate_engine import frame_jpeg, teach
from tests.fixtures.locks import in_thread, until_done_or_waiting_for_a_lock
from tests.webapp.gates.conftest import frame_poster
from webapp.gates import services, stays, tasks
from webapp.gates.models import Decision, Direction, Gate, Passage, Site, Visit
from webapp.gates.visits import visit_record

pytestmark = pytest.mark.django_db

PLATE = "AA1234BB"
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.get_fixed_timezone(0))


@pytest.fixture
def site() -> Site:
    return Site.objects.create(name="Car park", capacity=4, max_stay_hours=10)


@pytest.fixture
def way_in(site: Site) -> Gate:
    return Gate.objects.create(name="in", site=site, direction=Direction.ENTRY)


@pytest.fixture
def way_out(site: Site) -> Gate:
    return Gate.objects.create(name="out", site=site, direction=Direction.EXIT)


def _opened(gate: Gate, at: datetime, plate: str = PLATE) -> Passage:
    """A passage the gate opened for `plate`, its first frame captured at `at`."""
    device = gate.devices.first() or services.device_create(gate=gate).device
    return Passage.objects.create(
        gate=gate, device=device, started_at=at, last_frame_at=at, voted_plate=plate,
        decision=Decision.OPEN, decided_at=at,
    )  # fmt: skip


def _record(gate: Gate, at: datetime, plate: str = PLATE) -> Visit | None:
    return visit_record(passage=_opened(gate, at, plate))


def _states() -> list[tuple[str, datetime | None, datetime | None]]:
    return [
        (v.state, v.entered_at, v.exited_at)
        for v in Visit.objects.order_by("entered_at", "exited_at", "id")
    ]


def test_an_entry_then_an_exit_is_one_stay_with_both_ends(way_in, way_out):
    # when
    inside = _record(way_in, T0)
    # then
    assert inside is not None
    assert inside.state == Visit.State.INSIDE
    # when
    _record(way_out, T0 + timedelta(hours=2))
    # then
    assert _states() == [("left", T0, T0 + timedelta(hours=2))]
    visit = Visit.objects.get()
    assert visit.entry_passage.gate == way_in
    assert visit.exit_passage.gate == way_out


def test_the_exit_gate_reading_a_confusable_character_otherwise_ends_the_same_stay(way_in, way_out):
    _record(way_in, T0, "AA1234BB")
    _record(way_out, T0 + timedelta(hours=1), "AA1234B8")  # B read as 8 at the exit
    assert _states() == [("left", T0, T0 + timedelta(hours=1))]
    assert Visit.objects.get().plate == "AA1234BB"


def test_another_plate_does_not_end_the_stay(way_in, way_out):
    _record(way_in, T0, "AA1234BB")
    _record(way_out, T0 + timedelta(hours=1), "AA1234BC")
    assert sorted(Visit.objects.values_list("plate", "state")) == [
        ("AA1234BB", "inside"),
        ("AA1234BC", "entry_unseen"),
    ]


def test_an_exit_with_no_entry_seen_is_a_stay_of_its_own(way_out):
    _record(way_out, T0)
    assert _states() == [("entry_unseen", None, T0)]


def test_entering_again_without_an_exit_closes_the_first_stay_as_exit_unseen(way_in):
    _record(way_in, T0)
    _record(way_in, T0 + timedelta(days=1))
    assert _states() == [
        ("exit_unseen", T0, None),
        ("inside", T0 + timedelta(days=1), None),
    ]


def test_a_late_entry_completes_the_exit_that_arrived_first(way_in, way_out):
    # given: the exit gate's frame arrived, the entry camera's queued frames had not yet
    _record(way_out, T0 + timedelta(hours=3))
    # when: the entry camera comes back online and sends its queue
    _record(way_in, T0)
    # then
    assert _states() == [("left", T0, T0 + timedelta(hours=3))]


def test_a_late_entry_before_a_later_stay_does_not_take_that_stays_exit(way_in, way_out):
    # given: a stay from 10:00 to 11:00, and an exit at 12:00 with no entry seen
    _record(way_in, T0 + timedelta(hours=2))
    _record(way_out, T0 + timedelta(hours=3))
    # when: an entry at 08:00 arrives late; the 10:00 entry lies between it and any exit
    _record(way_in, T0)
    # then: 08:00 entered and entered again at 10:00 without a seen exit
    assert _states() == [
        ("exit_unseen", T0, None),
        ("left", T0 + timedelta(hours=2), T0 + timedelta(hours=3)),
    ]


def test_a_late_exit_ends_the_stay_it_belongs_to(way_in, way_out):
    # given: in at 08:00, in again at 12:00 (so the first stay lost its exit)
    _record(way_in, T0)
    _record(way_in, T0 + timedelta(hours=4))
    # when: the 09:00 exit arrives late
    _record(way_out, T0 + timedelta(hours=1))
    # then
    assert _states() == [
        ("left", T0, T0 + timedelta(hours=1)),
        ("inside", T0 + timedelta(hours=4), None),
    ]


def test_an_exit_after_a_stay_already_ended_does_not_reopen_an_older_one(way_in, way_out):
    # given: a stay that lost its exit (in again), then a stay that ended at 13:00
    _record(way_in, T0)
    _record(way_in, T0 + timedelta(hours=4))
    _record(way_out, T0 + timedelta(hours=5))
    # when: a second exit at 14:00
    _record(way_out, T0 + timedelta(hours=6))
    # then: the 08:00 stay keeps its unseen exit; 14:00 is an exit of its own
    assert _states() == [
        ("exit_unseen", T0, None),
        ("left", T0 + timedelta(hours=4), T0 + timedelta(hours=5)),
        ("entry_unseen", None, T0 + timedelta(hours=6)),
    ]


def test_gates_for_both_ways_or_of_no_site_and_unread_plates_record_no_visit(site):
    both = Gate.objects.create(name="both", site=site)
    lone = Gate.objects.create(name="lone", direction=Direction.ENTRY)
    way_in = Gate.objects.create(name="in", site=site, direction=Direction.ENTRY)
    assert _record(both, T0) is None
    assert _record(lone, T0) is None
    assert _record(way_in, T0, plate="") is None
    assert not Visit.objects.exists()


def test_a_passage_is_recorded_once(way_in):
    passage = _opened(way_in, T0)
    assert visit_record(passage=passage) is not None
    assert visit_record(passage=passage) is None
    assert Visit.objects.count() == 1


# --- through the device endpoint, with the engine double -----------------------------------


def _poster(gate: Gate):
    """Posts a frame from a new camera of `gate`; returns the device's answer."""
    new = services.device_create(gate=gate)
    post = frame_poster(new.device, new.secret)
    return lambda body, captured_at: post(body, captured_at=captured_at).json()


def test_a_car_through_the_entry_and_exit_gates_is_on_site_then_gone(
    gate_engine, way_in, way_out, operator_client
):
    # given: the plate is allowed at both gates; each gate has its camera
    for gate in (way_in, way_out):
        services.access_entry_add(gate=gate, plate=PLATE)
    enter, leave = _poster(way_in), _poster(way_out)
    arrived = timezone.now().timestamp() - 3600
    # when: three frames at the entry (the passage opens on the first, later frames re-vote)
    for k in range(3):
        body = frame_jpeg(400 + k)
        teach(gate_engine, body, PLATE)
        assert enter(body, arrived + 0.5 * k)["decision"] == "open"
    # then: one stay, on site
    assert list(Visit.objects.values_list("plate", "state")) == [(PLATE, "inside")]
    # when: a stranger is denied at the entry, and the car leaves
    stranger = frame_jpeg(410)
    teach(gate_engine, stranger, "KA0101AM")
    for k in range(way_in.deny_after_frames):
        enter(stranger, arrived + 60 + 0.5 * k)
    body = frame_jpeg(420)
    teach(gate_engine, body, PLATE)
    assert leave(body, arrived + 1800)["decision"] == "open"
    # then: the stranger never entered; the car's stay lasted the half hour
    visit = Visit.objects.get()
    assert visit.state == Visit.State.LEFT
    assert (visit.exited_at - visit.entered_at).total_seconds() == pytest.approx(1800, abs=0.01)
    assert Passage.objects.filter(decision="deny").count() == 1
    # and: the live passages name each gate's direction
    live = operator_client.get("/gates/").content.decode()
    assert 'in <small class="muted">Entry</small>' in live
    assert 'out <small class="muted">Exit</small>' in live


# --- the operator pages and the export -----------------------------------------------------


def test_the_sites_page_shows_who_is_on_site_how_full_and_who_overstays(
    operator_client, way_in, way_out
):
    # given: three cars in, one of them for 11 hours (the site allows 10), one gone
    now = timezone.now()
    _record(way_in, now - timedelta(hours=11), "AA1111AA")
    _record(way_in, now - timedelta(hours=2), "BB2222BB")
    _record(way_in, now - timedelta(hours=3), "CC3333CC")
    _record(way_out, now - timedelta(hours=1), "CC3333CC")
    # when
    page = operator_client.get("/gates/sites/").content.decode()
    # then: 2 of 4 spaces, 1 overstaying
    assert '<td class="inside">2</td>' in page
    assert "50 %" in page
    assert '<td class="overstaying">1</td>' in page
    # when
    detail = operator_client.get(f"/gates/sites/{way_in.site_id}/").content.decode()
    # then: the cars on site, the longest stay first and marked; the stay that ended below
    assert "2 vehicles on site of 4 spaces (50 % full)." in detail
    assert "1 of them has stayed longer than 10 h." in detail
    assert detail.index('data-plate="AA1111AA" data-overstaying') < detail.index(
        'data-plate="BB2222BB">'
    )
    assert "11 h 00 min" in detail
    assert 'data-plate="CC3333CC" data-state="left"' in detail
    assert "2 h 00 min" in detail
    # and each end of a stay opens the passage that made it
    left = Visit.objects.get(plate="CC3333CC")
    for passage_id in (left.entry_passage_id, left.exit_passage_id):
        assert f'<a href="/gates/passages/{passage_id}/">' in detail


def test_each_site_has_its_own_overstay_limit_in_queries_that_do_not_grow_with_sites(
    operator_client, way_in
):
    # given: the car park (10 h) with a car in for 11 h; a site allowing 24 h with a car in for
    # 11 h and one for 30 h; a site with no limit and a car in for 100 h
    now = timezone.now()
    _record(way_in, now - timedelta(hours=11), "AA1111AA")
    depot = Site.objects.create(name="Depot", capacity=10, max_stay_hours=24)
    depot_in = Gate.objects.create(name="depot-in", site=depot, direction=Direction.ENTRY)
    _record(depot_in, now - timedelta(hours=11), "BB2222BB")
    _record(depot_in, now - timedelta(hours=30), "CC3333CC")
    open_lot = Site.objects.create(name="Open lot")
    lot_in = Gate.objects.create(name="lot-in", site=open_lot, direction=Direction.ENTRY)
    _record(lot_in, now - timedelta(hours=100), "DD4444DD")

    def statuses() -> tuple[int, dict[str, tuple[int, int]]]:
        with CaptureQueriesContext(connection) as queries:
            found = stays.site_statuses(now=now)
        return len(queries), {s.site.name: (s.inside, s.overstaying) for s in found}

    # when
    three, found = statuses()
    # then
    assert found == {"Car park": (1, 1), "Depot": (2, 1), "Open lot": (1, 0)}
    for n in range(4):
        site = Site.objects.create(name=f"Lot {n}", max_stay_hours=1)
        _record(Gate.objects.create(name=f"lot-{n}", site=site, direction=Direction.ENTRY),
                now - timedelta(hours=2), f"KA000{n}AA")  # fmt: skip
    seven, found = statuses()
    assert found["Lot 3"] == (1, 1)
    assert seven == three


def test_visits_are_filtered_by_a_plate_typed_in_cyrillic_with_spaces(
    operator_client, way_in, way_out
):
    _record(way_out, T0, "AA1234BB")
    _record(way_out, T0, "KA0101AM")
    page = operator_client.get(
        f"/gates/sites/{way_in.site_id}/", {"plate": "аа 1234 вв"}
    ).content.decode()
    assert 'data-plate="AA1234BB"' in page
    assert 'data-plate="KA0101AM"' not in page


def test_the_visits_export_is_spreadsheet_safe_and_has_every_visit(operator_client, site, way_out):
    # given: a gate whose name a spreadsheet would run as a formula
    formula = Gate.objects.create(name="=HYPERLINK(1)", site=site, direction=Direction.ENTRY)
    _record(formula, T0, "AA1234BB")
    _record(way_out, T0 + timedelta(minutes=90), "AA1234BB")
    _record(formula, T0 + timedelta(hours=3), "KA0101AM")
    # when
    response = operator_client.get(f"/gates/sites/{site.pk}/visits.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    # then
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == ["plate", "state", "entered_at", "entry_gate", "exited_at", "exit_gate",
                       "minutes"]  # fmt: skip
    by_plate = {row[0]: row for row in rows[1:]}
    assert set(by_plate) == {"AA1234BB", "KA0101AM"}
    assert by_plate["AA1234BB"][1] == "left"
    assert by_plate["AA1234BB"][3] == "'=HYPERLINK(1)"
    assert by_plate["AA1234BB"][5] == "out"
    assert by_plate["AA1234BB"][6] == "90"
    assert by_plate["KA0101AM"][1] == "inside"


def test_site_pages_are_for_gate_operators_only(client, outsider, site):
    assert client.get("/gates/sites/").status_code == 302
    client.force_login(outsider)
    assert client.get("/gates/sites/").status_code == 403
    assert client.get(f"/gates/sites/{site.pk}/").status_code == 403
    assert client.get(f"/gates/sites/{site.pk}/visits.csv").status_code == 403


def test_metrics_count_the_vehicles_on_each_site(client, moderator, settings, way_in):
    settings.METRICS_ALLOWED_ADDRESSES = []
    now = timezone.now()
    _record(way_in, now - timedelta(hours=12), "AA1111AA")
    _record(way_in, now - timedelta(hours=1), "BB2222BB")
    client.force_login(moderator)
    text = client.get("/metrics").content.decode()
    assert 'platecheck_site_vehicles_inside{site="Car park"} 2.0' in text
    assert 'platecheck_site_vehicles_overstaying{site="Car park"} 1.0' in text


def test_gate_add_sets_the_direction_and_refuses_an_unknown_one():
    call_command("gate_add", "east", "--site", "Car park", "--direction", "exit")
    gate = Gate.objects.get(name="east")
    assert gate.direction == Direction.EXIT
    assert gate.site.name == "Car park"
    with pytest.raises(ValueError, match="direction 'sideways'"):
        services.gate_create(name="east", direction="sideways")
    gate.refresh_from_db()
    assert gate.direction == Direction.EXIT


def test_a_car_seen_again_at_the_barrier_within_the_window_is_one_arrival(way_in, way_out):
    # given: the entry camera opened twice for one car, 30 s apart (its frames fell into two
    # passages), and the exit camera twice as well
    _record(way_in, T0)
    _record(way_in, T0 + timedelta(seconds=30))
    _record(way_out, T0 + timedelta(hours=1))
    _record(way_out, T0 + timedelta(hours=1, seconds=40))
    # then: one stay
    assert _states() == [("left", T0, T0 + timedelta(hours=1))]
    # and: an arrival past the window is a new stay
    _record(way_in, T0 + timedelta(hours=1, minutes=10))
    assert Visit.objects.filter(state=Visit.State.INSIDE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_exit_deciding_while_the_entry_is_being_stored_waits_for_it_and_ends_its_stay():
    # given: a car's entry being stored, its transaction not yet committed
    site = Site.objects.create(name="Car park")
    way_in = Gate.objects.create(name="in", site=site, direction=Direction.ENTRY)
    way_out = Gate.objects.create(name="out", site=site, direction=Direction.EXIT)
    entry, leaving = _opened(way_in, T0), _opened(way_out, T0 + timedelta(hours=1))
    stored, commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def enter() -> None:
        with transaction.atomic():
            visit_record(passage=entry)
            stored.set()
            commit.wait(WAIT_S)

    entering = in_thread(enter, errors)
    entering.start()
    assert stored.wait(WAIT_S)
    # when: the exit gate opens for it meanwhile
    exiting = in_thread(lambda: visit_record(passage=leaving), errors)
    exiting.start()
    until_done_or_waiting_for_a_lock(exiting, WAIT_S)
    commit.set()
    entering.join(WAIT_S)
    exiting.join(WAIT_S)
    # then: the exit waited for the entry and ended its stay: one visit, not two halves
    assert errors == []
    assert _states() == [("left", T0, T0 + timedelta(hours=1))]


WAIT_S = 20  # how long one side waits for the other; generous, the machine is shared


def test_an_operator_takes_a_car_whose_exit_was_missed_off_the_site(
    operator_client, moderator, way_in, way_out
):
    # given: two cars on site; the exit camera missed one of them
    now = timezone.now()
    missed = _record(way_in, now - timedelta(hours=5), "AA1111AA")
    _record(way_in, now - timedelta(hours=1), "BB2222BB")
    # when
    response = operator_client.post(f"/gates/sites/{way_in.site_id}/visits/{missed.pk}/close/")
    # then: one car on site; the stay says its exit was not seen, and who ended it
    assert response.status_code == 302
    missed.refresh_from_db()
    assert missed.state == Visit.State.EXIT_UNSEEN
    assert missed.closed_by == moderator
    assert missed.closed_at is not None
    assert missed.exited_at is None
    page = operator_client.get(f"/gates/sites/{way_in.site_id}/").content.decode()
    assert "1 vehicle on site of 4 spaces (25 % full)." in page
    assert "AA1111AA is no longer on site." in page
    assert f"(taken off by {moderator.username}," in page
    # when: its exit is read after all (a camera's queue sent it late)
    _record(way_out, now - timedelta(minutes=30), "AA1111AA")
    # then: the stay ends there
    missed.refresh_from_db()
    assert missed.state == Visit.State.LEFT
    assert missed.exited_at == now - timedelta(minutes=30)


def test_only_a_car_on_site_can_be_taken_off_and_only_by_a_post(
    operator_client, client, outsider, way_in, way_out
):
    _record(way_in, T0, "AA1111AA")
    left = _record(way_out, T0 + timedelta(hours=1), "AA1111AA")
    url = f"/gates/sites/{way_in.site_id}/visits/{left.pk}/close/"
    assert operator_client.get(url).status_code == 405
    page = operator_client.post(url, follow=True).content.decode()
    assert "Nothing changed: that vehicle is no longer on site." in page
    left.refresh_from_db()
    assert left.state == Visit.State.LEFT
    client.force_login(outsider)
    assert client.post(url).status_code == 403


def test_an_exit_open_to_all_lets_any_car_out_and_ends_its_stay(
    gate_engine, way_in, way_out, operator_client
):
    # given: a visitor let in by hand (an entry with the plate), an exit open to all, its plate
    # on no list
    services.gate_create(name=way_out.name, open_to_all=True)
    _record(way_in, timezone.now() - timedelta(hours=2), "KA0101AM")
    leave = _poster(way_out)
    body = frame_jpeg(800)
    teach(gate_engine, body, "KA0101AM")
    # when
    answer = leave(body, timezone.now().timestamp() - 5)
    # then
    assert answer["decision"] == "open"
    assert Visit.objects.get().state == Visit.State.LEFT
    page = operator_client.get(f"/gates/{way_out.pk}/access/").content.decode()
    assert "This gate opens for any plate read that is not on the block-list" in page


def test_gate_add_makes_a_gate_open_to_all():
    call_command("gate_add", "visitors-out", "--site", "Car park", "--direction", "exit",
                 "--open-to-all")  # fmt: skip
    assert Gate.objects.get(name="visitors-out").open_to_all


def test_a_visitors_entrance_closes_to_visitors_while_the_site_is_full(gate_engine, site, way_in):
    # given: an entrance open to all to a site of 4 spaces, 4 cars inside, one permit holder
    services.gate_create(name=way_in.name, open_to_all=True)
    services.access_entry_add(gate=way_in, plate="AA1234BB")
    for n in range(4):
        _record(way_in, timezone.now() - timedelta(hours=1, minutes=n), f"BC000{n}AA")
    enter = _poster(way_in)
    visitor, holder = frame_jpeg(900), frame_jpeg(901)
    teach(gate_engine, visitor, "KA0101AM")
    teach(gate_engine, holder, "AA1234BB")
    # when / then: the visitor is refused, the permit holder let in
    refused = enter(visitor, timezone.now().timestamp() - 60)
    assert refused["decision"] == "deny"
    assert "the site is full" in refused["reason"]
    assert enter(holder, timezone.now().timestamp() - 30)["decision"] == "open"
    # and: once a car has left, visitors come in again
    Visit.objects.filter(plate="BC0000AA").update(state=Visit.State.LEFT)
    Visit.objects.filter(plate="AA1234BB").update(state=Visit.State.LEFT)
    again = frame_jpeg(902)
    teach(gate_engine, again, "KA0101AM")
    assert enter(again, timezone.now().timestamp())["decision"] == "open"


def test_stays_past_the_sites_limit_are_closed_so_missed_exits_do_not_fill_it(
    operator_client, gate_engine, site, way_in
):
    # given: a site of 4 spaces that closes stays after 24 h, full with cars whose exits the
    # cameras missed days ago but one, and a visitors' entrance open to all
    Site.objects.filter(pk=site.pk).update(close_stays_after_hours=24)
    services.gate_create(name=way_in.name, open_to_all=True)
    now = timezone.now()
    for n in range(3):
        _record(way_in, now - timedelta(days=3, minutes=n), f"BC000{n}AA")
    _record(way_in, now - timedelta(hours=2), "AE2020OP")
    other = Site.objects.create(name="No limit", capacity=1)
    lone = Gate.objects.create(name="lone", site=other, direction=Direction.ENTRY)
    _record(lone, now - timedelta(days=30), "KA7000BC")
    # when: the hourly task runs
    closed = tasks.stale_stays_close()
    # then: the three old stays ended, exit not seen; the recent one and the other site's stay
    # (no limit there) are untouched, and a visitor gets in again
    assert closed == 3
    assert set(Visit.objects.filter(state=Visit.State.INSIDE).values_list("plate", flat=True)) == {
        "AE2020OP", "KA7000BC"
    }  # fmt: skip
    stale = Visit.objects.get(plate="BC0000AA")
    assert stale.state == Visit.State.EXIT_UNSEEN
    assert stale.closed_by is None
    assert stale.closed_at is not None
    visitor = frame_jpeg(950)
    teach(gate_engine, visitor, "KA0101AM")
    assert _poster(way_in)(visitor, now.timestamp() - 5)["decision"] == "open"
    page = operator_client.get(f"/gates/sites/{site.pk}/").content.decode()
    assert "(taken off after too long on site," in page


def test_the_site_page_draws_the_most_vehicles_on_site_each_hour(operator_client, site, way_in):
    # given: stays around the last hours, `now` at half past the hour
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    hour = timezone.localtime(now).replace(minute=0)

    def at(hours: float) -> datetime:
        return hour + timedelta(hours=hours)

    def stay(plate: str, state: str, entered=None, exited=None, closed=None) -> None:
        Visit.objects.create(site=site, plate=plate, plate_key=plate, state=state,
                             entered_at=entered, exited_at=exited, closed_at=closed)  # fmt: skip

    stay("AA0001AA", Visit.State.LEFT, at(-1.75), at(-0.67))  # 10:15-11:20
    stay("AA0002AA", Visit.State.INSIDE, at(-1.33))  # 10:40, on site
    stay("AA0003AA", Visit.State.LEFT, at(-72), at(-1))  # three days, left at 11:00 sharp
    stay("AA0004AA", Visit.State.EXIT_UNSEEN, at(-4), closed=at(-2.5))  # closed by hand 9:30
    stay("AA0005AA", Visit.State.EXIT_UNSEEN, at(-3))  # closed by its next entry: no end
    stay("AA0006AA", Visit.State.ENTRY_UNSEEN, exited=at(-1.5))  # no start
    stay("AA0007AA", Visit.State.LEFT, at(-400), at(-300))  # before the window
    stay("AA0008AA", Visit.State.INSIDE, at(-24 * 40))  # on site for 40 days: counted

    # when
    with CaptureQueriesContext(connection) as queries:
        occupancy = stays.site_occupancy(site=site, now=now)

    # then: 8:00 ... 12:00 as hours -4 ... 0 from now's
    assert len(queries) == 1
    assert len(occupancy.hours) == len(occupancy.most) == 7 * 24
    assert occupancy.hours[-1] == hour
    assert occupancy.most[-5:] == [3, 3, 4, 3, 2]
    assert occupancy.most[-30] == 2  # the three-day stay and the forty-day one
    assert occupancy.most[0] == 1
    page = operator_client.get(f"/gates/sites/{site.pk}/").content.decode()
    assert "The busiest hour: 4 vehicles on site at once" in page
    assert "Vehicles on site, each hour of the last 7 days" in page
