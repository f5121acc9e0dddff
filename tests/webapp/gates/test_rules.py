"""The pure rules: voting, time windows, matching, the block-list."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from webapp.gates.rules import FrameReading, Vote, Window, decide, plates_match, vote, window_admits


def wall(*args: int) -> datetime:
    """A wall-clock moment: access windows are local times with no zone attached."""
    return datetime(*args)  # noqa: DTZ001


PLATE = "AA1234BB"


def _misread(position: int, wrong: str) -> FrameReading:
    text = PLATE[:position] + wrong + PLATE[position + 1 :]
    return FrameReading(text=text, confidence=0.9, char_confidences=(0.9,) * len(text))


def test_five_frames_each_misread_in_a_different_position_vote_the_right_plate():
    # given: every frame is wrong somewhere, never twice in the same place
    frames = [_misread(0, "X"), _misread(2, "7"), _misread(4, "8"), _misread(6, "8"),
              _misread(7, "8")]  # fmt: skip
    assert all(f.text != PLATE for f in frames)
    # when
    voted = vote(frames)
    # then
    assert voted.plate == PLATE
    assert voted.confidence == pytest.approx(0.8 * 0.9)


def test_character_votes_are_weighted_by_confidence():
    sure = FrameReading("AA1234BB", 0.9, (0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.95, 0.9))
    unsure_a = FrameReading("AA1234B8", 0.5, (0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.3))
    unsure_b = FrameReading("AA1234B8", 0.5, (0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.3))
    assert vote([sure, unsure_a, unsure_b]).plate == "AA1234BB"


def test_readings_of_another_length_do_not_shift_the_vote():
    frames = [FrameReading(PLATE, 0.9), FrameReading(PLATE, 0.8), FrameReading("A1234BB", 0.4)]
    voted = vote(frames)
    assert voted.plate == PLATE
    assert voted.confidence < 0.85


def test_no_readings_vote_nothing():
    assert vote([FrameReading("", 0.0)]) == Vote("", 0.0)


WEEKDAYS_8_TO_18 = Window(days="01234", hour_from=time(8), hour_until=time(18))


@pytest.mark.parametrize(
    ("at", "admitted"),
    [
        (wall(2026, 12, 2, 8, 0), True),  # Wednesday, opening minute
        (wall(2026, 12, 2, 12, 30), True),
        (wall(2026, 12, 2, 17, 59), True),
        (wall(2026, 12, 2, 18, 0), False),  # the end is exclusive
        (wall(2026, 12, 2, 7, 59), False),
        (wall(2026, 12, 5, 12, 0), False),  # Saturday
        (wall(2026, 12, 6, 12, 0), False),  # Sunday
        (wall(2026, 12, 4, 9, 0), True),  # Friday
    ],
)
def test_a_plate_allowed_on_weekdays_from_8_to_18(at, admitted):
    assert window_admits(WEEKDAYS_8_TO_18, at) is admitted


def test_a_night_window_wraps_past_midnight():
    night = Window(hour_from=time(22), hour_until=time(6))
    assert window_admits(night, wall(2026, 12, 2, 23, 0))
    assert window_admits(night, wall(2026, 12, 3, 5, 59))
    assert not window_admits(night, wall(2026, 12, 2, 12, 0))


def test_a_date_range_bounds_the_entry():
    window = Window(valid_from=wall(2026, 12, 1), valid_until=wall(2026, 12, 31, 23, 59))
    assert not window_admits(window, wall(2026, 11, 30, 23, 0))
    assert window_admits(window, wall(2026, 12, 15))
    assert not window_admits(window, wall(2027, 1, 1))


def test_matching_is_exact_unless_the_gate_allows_one_confusable():
    assert not plates_match("AA1Z34BB", "AA1234BB", allow_confusable=False)
    assert plates_match("AA1Z34BB", "AA1234BB", allow_confusable=True)
    assert plates_match("AA1234B8", "AA1234BB", allow_confusable=True)
    # two confusions, or a character outside the groups, never match
    assert not plates_match("AA1Z34B8", "AA1234BB", allow_confusable=True)
    assert not plates_match("AA1234BC", "AA1234BB", allow_confusable=True)


def _decide(plate: str, confidence: float = 0.9, frames: int = 1, **kw):
    args = {"allowed": [PLATE], "blocked": [], "allow_confusable": False,
            "min_confidence": 0.6, "deny_after_frames": 5} | kw  # fmt: skip
    return decide(voted=Vote(plate, confidence), frames=frames, **args)


def test_the_block_list_beats_the_access_list():
    verdict = _decide(PLATE, blocked=[PLATE])
    assert verdict.decision == "deny"
    assert "block-list" in verdict.reason


def test_a_look_alike_of_a_blocked_plate_does_not_open_either():
    assert _decide(PLATE, allowed=[PLATE], blocked=["AA1234B8"]).decision == "deny"


def test_open_needs_enough_confidence_and_deny_comes_after_n_frames():
    assert _decide(PLATE).decision == "open"
    assert _decide(PLATE, confidence=0.4).decision == "unknown"
    assert _decide("KA0101AM", frames=4).decision == "unknown"
    assert _decide("KA0101AM", frames=5).decision == "deny"
    assert _decide("", frames=5).reason == "no plate read in 5 frames"


def test_a_gate_open_to_all_admits_any_plate_read_well_but_never_a_blocked_one():
    assert _decide("KA0101AM", open_to_all=True).decision == "open"
    assert "any plate" in _decide("KA0101AM", open_to_all=True).reason
    assert _decide("KA0101AM", confidence=0.4, open_to_all=True).decision == "unknown"
    assert _decide("", frames=5, open_to_all=True).decision == "deny"
    blocked = _decide("KA0101AM", blocked=["KA0101AM"], open_to_all=True)
    assert (blocked.decision, blocked.blocked) == ("deny", True)


def test_a_full_site_admits_only_the_access_lists_plates_at_a_gate_open_to_all():
    full = _decide("KA0101AM", open_to_all=True, full=True)
    assert (full.decision, full.reason) == (
        "deny", "KA0101AM: the site is full (only the access list's plates)"
    )  # fmt: skip
    assert _decide(PLATE, open_to_all=True, full=True).decision == "open"  # a permit holder
