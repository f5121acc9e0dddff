"""Offline decisions from the cached access list. A copy of the server's rules
(webapp/gates/rules.py: window_admits, plates_match); tests/deploy/test_gate_client_parts.py keeps
the two in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

CONFUSABLE_GROUPS = ("0OD", "8B", "1I", "5S", "2Z")
_GROUP_OF = {ch: group for group in CONFUSABLE_GROUPS for ch in group}


@dataclass(frozen=True)
class Window:
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    days: str = ""
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
    return now >= start or now < end


def plates_match(read: str, listed: str, *, allow_confusable: bool) -> bool:
    if read == listed:
        return True
    if not allow_confusable or len(read) != len(listed):
        return False
    differing = [(a, b) for a, b in zip(read, listed, strict=True) if a != b]
    if len(differing) != 1:
        return False
    a, b = differing[0]
    return a in _GROUP_OF and _GROUP_OF[a] == _GROUP_OF.get(b)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _t(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def window_of(entry: dict[str, Any]) -> Window:
    return Window(
        valid_from=_dt(entry.get("valid_from")),
        valid_until=_dt(entry.get("valid_until")),
        days=entry.get("days") or "",
        hour_from=_t(entry.get("hour_from")),
        hour_until=_t(entry.get("hour_until")),
    )


def decide_offline(plate: str, access: dict[str, Any], at: datetime) -> tuple[str, str]:
    """(decision, reason) for one local reading against the cached list; `at` is local time."""
    if not plate:
        return "unknown", "offline: no plate read locally"
    if any(plates_match(plate, b, allow_confusable=True) for b in access.get("blocked", [])):
        return "deny", f"offline: {plate} is on the block-list"
    if access.get("open_to_all"):  # an exit, or a visitors' entrance: any plate not blocked
        return "open", f"offline: {plate}: the gate opens to any plate not blocked"
    confusable = bool(access.get("allow_confusable"))
    for entry in access.get("entries", []):
        if plates_match(plate, entry["plate"], allow_confusable=confusable) and window_admits(
            window_of(entry), at
        ):
            return "open", f"offline: {plate} is on the cached access list"
    return "deny", f"offline: {plate} is not on the cached access list now"
