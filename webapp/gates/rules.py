"""Pure decision rules for gates: voting a passage's readings, access-list windows, matching.

No Django here, so the rules are tested as plain functions. The Pi client carries its own small
copy of the window and matching rules (deploy/pi/gate_client/rules.py, it cannot import this
project); tests/deploy/test_gate_client_parts.py keeps the two in step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

# A car waiting at the barrier makes a new passage whenever its frames are more than the gate's
# passage_gap_s apart (a slow first read, a pause in traffic): a second opening for the same
# plate at the same end of a stay within this window is the same arrival or departure.
REPEAT_WINDOW = timedelta(minutes=2)

# Characters the reader confuses with each other on real plates; a gate may tolerate one.
CONFUSABLE_GROUPS = ("0OD", "8B", "1I", "5S", "2Z")
_GROUP_OF = {ch: group for group in CONFUSABLE_GROUPS for ch in group}


@dataclass(frozen=True)
class FrameReading:
    text: str
    confidence: float
    char_confidences: tuple[float, ...] = ()


@dataclass(frozen=True)
class Vote:
    plate: str
    confidence: float


def vote(readings: Iterable[FrameReading]) -> Vote:
    """Each character voted across frames, weighted by its confidence.

    Only readings of the most supported length vote per position (a missed or extra character
    would shift every position after it). The voted confidence is the weakest position's share
    of the votes, times the winning length's share and the readings' mean confidence: one clean
    frame at 0.9 gives 0.9; two frames that disagree somewhere give at most half of that.
    """
    usable = [r for r in readings if r.text]
    if not usable:
        return Vote(plate="", confidence=0.0)
    by_length: dict[int, float] = defaultdict(float)
    for r in usable:
        by_length[len(r.text)] += r.confidence
    length = max(by_length, key=lambda n: (by_length[n], n))
    same = [r for r in usable if len(r.text) == length]
    chars: list[str] = []
    weakest = 1.0
    for position in range(length):
        weights: dict[str, float] = defaultdict(float)
        for r in same:
            weights[r.text[position]] += _char_weight(r, position)
        total = sum(weights.values()) or 1.0
        winner = max(weights, key=lambda ch: (weights[ch], ch))
        chars.append(winner)
        weakest = min(weakest, weights[winner] / total)
    length_share = by_length[length] / (sum(by_length.values()) or 1.0)
    mean_confidence = sum(r.confidence for r in same) / len(same)
    return Vote(plate="".join(chars), confidence=weakest * length_share * mean_confidence)


def _char_weight(reading: FrameReading, position: int) -> float:
    if len(reading.char_confidences) == len(reading.text):
        return max(reading.char_confidences[position], 1e-6)
    return max(reading.confidence, 1e-6)


@dataclass(frozen=True)
class Window:
    """When an access entry admits its plate. Naive local times: the gate's wall clock."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None
    days: str = ""  # weekday digits, Monday=0; "" = every day
    hour_from: time | None = None
    hour_until: time | None = None


def window_admits(window: Window, at: datetime) -> bool:
    if window.valid_from is not None and at < window.valid_from:
        return False
    if window.valid_until is not None and at > window.valid_until:
        return False
    if window.days and str(at.weekday()) not in window.days:
        return False
    start, end = window.hour_from, window.hour_until
    if start is None and end is None:
        return True
    now = at.time().replace(tzinfo=None)
    start = start or time.min
    if end is None:
        return now >= start
    if start <= end:
        return start <= now < end
    return now >= start or now < end  # wraps past midnight (22:00-06:00)


def plates_match(read: str, listed: str, *, allow_confusable: bool) -> bool:
    """Exact after voting; with `allow_confusable`, one position may differ within a group."""
    if read == listed:
        return True
    if not allow_confusable or len(read) != len(listed):
        return False
    differing = [(a, b) for a, b in zip(read, listed, strict=True) if a != b]
    if len(differing) != 1:
        return False
    a, b = differing[0]
    return a in _GROUP_OF and _GROUP_OF[a] == _GROUP_OF.get(b)


def confusable_key(plate: str) -> str:
    """`plate` with each confusable character folded to its group's first: two readings of one
    plate that differ only within groups (`AA1234B8`, `AA1234BB`) get the same key."""
    return "".join(_GROUP_OF.get(ch, ch)[0] for ch in plate)


@dataclass(frozen=True)
class Verdict:
    decision: str  # "open" | "deny" | "unknown"
    reason: str
    blocked: bool = False  # denied by the block-list
    passback: bool = False  # denied: the plate is on site already (anti-passback)


def decide(
    *,
    voted: Vote,
    frames: int,
    allowed: Sequence[str],
    blocked: Sequence[str],
    allow_confusable: bool,
    min_confidence: float,
    deny_after_frames: int,
    open_to_all: bool = False,
    full: bool = False,
    inside_since: str = "",
) -> Verdict:
    """`allowed` holds the plates admitted at this moment; the block-list always wins. A gate
    `open_to_all` admits any plate read with `min_confidence`, unless its site is `full`: then
    only the access list's plates. `inside_since` (when the plate entered, at an entry gate of
    a site with anti-passback; "" otherwise): a plate on site already is not let in again."""
    plate = voted.plate

    def opened(reason: str) -> Verdict:
        if inside_since:
            return Verdict(
                "deny",
                f"{plate} is on site already (entered {inside_since}, no exit seen)",
                passback=True,
            )
        return Verdict("open", reason)

    if plate and any(plates_match(plate, b, allow_confusable=True) for b in blocked):
        # Tolerant on purpose: a look-alike of a blocked plate must not open the gate either.
        return Verdict("deny", f"{plate} is on the block-list", blocked=True)
    matched = plate and any(
        plates_match(plate, a, allow_confusable=allow_confusable) for a in allowed
    )
    if open_to_all and not matched and plate and voted.confidence >= min_confidence:
        if full:
            return Verdict("deny", f"{plate}: the site is full (only the access list's plates)")
        return opened(f"{plate}: the gate opens to any plate not blocked")
    if matched and voted.confidence >= min_confidence:
        return opened(f"{plate} is on the access list")
    if frames >= deny_after_frames:
        if not plate:
            return Verdict("deny", f"no plate read in {frames} frames")
        if matched:
            return Verdict(
                "deny", f"{plate} matches but confidence {voted.confidence:.2f} stayed low"
            )
        return Verdict("deny", f"{plate} is not on the access list now ({frames} frames)")
    if matched:
        return Verdict("unknown", f"{plate} matches, confidence {voted.confidence:.2f} too low yet")
    return Verdict("unknown", f"no match yet ({plate or 'no plate'}, {frames} frames)")
