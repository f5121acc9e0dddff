"""The watch list's rule: a watched plate the photos vote for or the seller declares, and a
watched VIN the seller declares, are flagged; a reading's flag is capped by its confidence."""

from __future__ import annotations

import datetime as dt

from registry.crosscheck import crosscheck
from registry.crosscheck_facts import CrosscheckInput, ListingFacts, ReadingFacts, WatchFacts
from registry.crosscheck_findings import Kind, Severity

STOLEN = WatchFacts(entry_id=7, plate="AA1234BB", reason="stolen", source="police notice 12/3",
                    added_on=dt.date(2026, 11, 30))  # fmt: skip
VIN = "WVWZZZ1KZ8W000123"


def reading(photo: int, text: str = "AA1234BB", confidence: float = 0.95) -> ReadingFacts:
    return ReadingFacts(reading_id=photo * 10, photo_id=photo, plate_text=text,
                        confidence=confidence)  # fmt: skip


def watched(listing: ListingFacts, readings=(), entries=(STOLEN,)):
    data = CrosscheckInput(listing=listing, readings=tuple(readings), watched=tuple(entries))
    return [f for f in crosscheck(data) if f.kind in (Kind.PLATE_WATCHED, Kind.VIN_WATCHED)]


def test_a_watched_plate_the_photos_show_is_flagged_with_the_entry_as_evidence() -> None:
    [finding] = watched(ListingFacts(listing_id=1), [reading(1), reading(2)])
    assert (finding.kind, finding.key, finding.severity) == (
        Kind.PLATE_WATCHED, "AA1234BB", Severity.HIGH,
    )  # fmt: skip
    assert finding.evidence["reason"] == "stolen"
    assert finding.evidence["source"] == "police notice 12/3"
    assert finding.evidence["via"] == "photos"
    assert finding.evidence["photos"] == [1, 2]
    assert finding.plate_text == "AA1234BB"


def test_a_doubtful_reading_gives_a_low_flag_and_a_declared_plate_a_high_one() -> None:
    [doubtful] = watched(ListingFacts(listing_id=1), [reading(1, confidence=0.4)])
    assert doubtful.severity == Severity.LOW
    [declared] = watched(ListingFacts(listing_id=1, declared_plate="аа 1234 вв"))
    assert (declared.severity, declared.evidence["via"]) == (Severity.HIGH, "declared")


def test_a_look_alike_plate_is_not_the_watched_one() -> None:
    assert watched(ListingFacts(listing_id=1), [reading(1, "AA1234BE")]) == []


def test_a_watched_vin_is_matched_however_the_seller_typed_it() -> None:
    entry = WatchFacts(entry_id=8, vin=VIN, reason="fraud")
    typed = VIN.lower().replace("0", "O", 1)  # a seller's O for a zero
    [finding] = watched(ListingFacts(listing_id=1, declared_vin=typed), entries=[entry])
    assert (finding.kind, finding.key, finding.severity) == (Kind.VIN_WATCHED, VIN, Severity.HIGH)


def test_another_reason_asks_for_a_look_and_reopens_a_dismissed_flag() -> None:
    other = WatchFacts(entry_id=7, plate="AA1234BB", reason="other")
    [finding] = watched(ListingFacts(listing_id=1), [reading(1)], [other])
    [stolen] = watched(ListingFacts(listing_id=1), [reading(1)])
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence_hash != stolen.evidence_hash
    [again] = watched(ListingFacts(listing_id=1), [reading(1, confidence=0.9)])
    assert again.evidence_hash == stolen.evidence_hash  # another reading: the same flag
