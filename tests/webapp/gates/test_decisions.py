"""Decisions through the endpoint: voting across a passage, windows, block-list, the register."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.fixtures.gate_engine import frame_jpeg, teach
from tests.webapp.gates.factories import RegisterRecordFactory
from webapp.gates import selectors, services
from webapp.gates.models import Frame, Passage

pytestmark = pytest.mark.django_db

PLATE = "AA1234BB"


def _misread(position: int, wrong: str) -> str:
    return PLATE[:position] + wrong + PLATE[position + 1 :]


def test_a_passage_of_misread_frames_is_voted_to_the_plate_and_opens(post_frame, gate_engine, gate):
    # given: five frames of one car, each misread in a different position
    services.access_entry_add(gate=gate, plate=PLATE)
    readings = [_misread(0, "X"), _misread(2, "7"), _misread(4, "8"), _misread(6, "8"),
                _misread(7, "8")]  # fmt: skip
    answers = []
    # The camera's capture times, half a second apart (a passage is frames closer than the
    # gate's passage_gap_s: the request's own clock would split it on a loaded machine).
    start = timezone.now().timestamp() - 10
    for k, text in enumerate(readings):
        body = frame_jpeg(100 + k)
        teach(gate_engine, body, text)
        # when
        answers.append(post_frame(body, captured_at=start + 0.5 * k).json())
    # then
    assert Passage.objects.count() == 1
    passage = Passage.objects.get()
    assert passage.voted_plate == PLATE
    assert passage.frames_count == 5
    assert passage.decision == "open"
    assert answers[-1]["decision"] == "open"
    assert answers[0]["decision"] == "unknown"  # one misread frame alone does not open
    assert passage.decide_ms is not None


def test_a_passage_denies_after_n_frames_without_a_match(post_frame, gate_engine, gate):
    services.access_entry_add(gate=gate, plate=PLATE)
    decisions = []
    start = timezone.now().timestamp() - 10  # capture times half a second apart: one passage
    for k in range(gate.deny_after_frames):
        body = frame_jpeg(200 + k)
        teach(gate_engine, body, "KA0101AM")
        decisions.append(post_frame(body, captured_at=start + 0.5 * k).json()["decision"])
    assert decisions == ["unknown"] * (gate.deny_after_frames - 1) + ["deny"]
    assert "not on the access list" in Passage.objects.get().reason


def test_another_car_within_the_gap_starts_its_own_passage(post_frame, gate_engine, gate):
    services.access_entry_add(gate=gate, plate=PLATE)
    first, second = frame_jpeg(300), frame_jpeg(301)
    teach(gate_engine, first, PLATE)
    teach(gate_engine, second, "KA0101AM")
    assert post_frame(first).json()["decision"] == "open"
    answer = post_frame(second).json()
    assert answer["plate"] == "KA0101AM"
    assert answer["decision"] == "unknown"
    assert Passage.objects.count() == 2


def _last(weekday: int, hour: int) -> float:
    """The latest past `weekday` (0 = Monday) at `hour`, local time: within the 7 days a queued
    frame may be old, whatever day the suite runs on."""
    now = timezone.localtime()
    day = now.date() - timedelta(days=(now.weekday() - weekday) % 7)
    at = timezone.make_aware(datetime.combine(day, time(hour)))
    return (at - timedelta(days=7) if at >= now else at).timestamp()


@pytest.mark.parametrize(
    ("captured", "decision"),
    [
        ((2, 9), "open"),  # Wednesday 09:00
        ((2, 19), "unknown"),  # Wednesday 19:00
        ((5, 9), "unknown"),  # Saturday 09:00
    ],
)
def test_a_plate_allowed_on_weekdays_8_to_18(post_frame, gate_engine, gate, captured, decision):
    # The frame's capture time decides (a queued frame is judged for when it was taken).
    services.access_entry_add(
        gate=gate, plate=PLATE, days="01234", hour_from=time(8), hour_until=time(18)
    )
    body = frame_jpeg(400)
    teach(gate_engine, body, PLATE)
    answer = post_frame(body, captured_at=_last(*captured), queued=True).json()
    assert answer["decision"] == decision
    assert answer["queued"] is True


def test_the_block_list_beats_the_access_list(post_frame, gate_engine, gate):
    services.access_entry_add(gate=gate, plate=PLATE)
    services.block_entry_add(plate=PLATE, reason="stolen")
    body = frame_jpeg(500)
    teach(gate_engine, body, PLATE)
    answer = post_frame(body).json()
    assert answer["decision"] == "deny"
    assert "block-list" in answer["reason"]


def test_confusable_matching_is_off_unless_the_gate_allows_it(post_frame, gate_engine, gate):
    services.access_entry_add(gate=gate, plate=PLATE)
    body = frame_jpeg(600)
    teach(gate_engine, body, "AA1Z34BB")
    assert post_frame(body, frame="c1").json()["decision"] == "unknown"
    gate.allow_confusable = True
    gate.save()
    body2 = frame_jpeg(601)
    teach(gate_engine, body2, "AA1Z34BB")
    assert post_frame(body2, frame="c2").json()["decision"] == "open"


def test_a_frame_without_a_plate_is_kept_with_no_reading(post_frame, gate_engine):
    answer = post_frame(frame_jpeg(700)).json()
    assert answer["decision"] == "unknown"
    assert Frame.objects.get().plate_text == ""


def test_the_passage_shows_the_register_record(post_frame, gate_engine, gate):
    RegisterRecordFactory(plate_latin=PLATE, brand="TOYOTA", model="CAMRY", colour="WHITE")
    body = frame_jpeg(800)
    teach(gate_engine, body, PLATE)
    post_frame(body)
    (row,) = selectors.passages_page(filters=selectors.PassageFilters()).rows
    assert row.passage == Passage.objects.get()
    record = row.record
    assert record is not None
    assert (record.brand, record.model, record.colour) == ("TOYOTA", "CAMRY", "WHITE")
