"""Cross-check rules: a listing, its plate readings and the register -> findings.

Pure and Django-free: frozen dataclasses in, frozen dataclasses out. ``webapp.checks.facts`` loads
the facts from the database and turns findings into ``Flag`` rows; the bench and the tests call
``crosscheck`` directly.

Rules, in short:
- every photo votes once for each plate it shows; a moderator's reading replaces the engine's
  for that photo; near-identical low-confidence texts (one character apart) are misreads of
  the winning plate, not extra plates;
- the car to compare with is the current register record (latest ``D_REG``, then row order)
  of the voted plate, else of the declared plate, else of the declared VIN (2026 files have
  no plates);
- a finding's severity is capped by how sure we are of the plate, so a blurry reading gives a
  low-severity flag instead of a false alarm.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from recognition.pipeline.regions import normalise_plate
from registry.crosscheck_facts import (
    CrosscheckInput,
    ListingFacts,
    OtherListingFacts,
    PlateSource,
    ReadingFacts,
    RecordFacts,
)
from registry.normalise import (
    Match,
    compare_colour,
    compare_make,
    compare_model,
    declared_model,
    normalise_vin,
    same_vin,
)

# A reading at or above this is trusted as it is; below it findings are capped at MEDIUM.
CONFIDENT = 0.85
# Below this a reading is a hint only: findings from it are capped at LOW.
PLAUSIBLE = 0.6
# Engine plate formats the Ukrainian register can hold (ua_2015, ua_2004, ua_square).
UKRAINIAN_FORMATS = "ua_"


class Kind(enum.StrEnum):
    """The kinds of finding, and so of flag: ``webapp.checks.models.Flag`` takes its choices."""

    PLATE_NOT_IN_REGISTER = "plate_not_in_register"
    MAKE_MISMATCH = "make_mismatch"
    MODEL_MISMATCH = "model_mismatch"
    COLOUR_MISMATCH = "colour_mismatch"
    YEAR_MISMATCH = "year_mismatch"
    MULTIPLE_PLATES = "multiple_plates"
    DECLARED_PLATE_MISMATCH = "declared_plate_mismatch"
    VIN_MISMATCH = "vin_mismatch"
    PLATE_ON_OTHER_LISTING = "plate_on_other_listing"


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True)
class PlateVote:
    plate: str
    photos: tuple[int, ...]
    confidence: float  # noisy-OR over photos: agreeing photos make a plate surer
    plate_format: str = ""
    variants: tuple[str, ...] = ()  # misreads folded into this plate


@dataclass(frozen=True)
class Finding:
    kind: Kind
    key: str
    severity: Severity
    evidence: dict[str, Any] = field(hash=False, compare=False)
    # What the finding is *about*; confidences and ids of re-reads are left out so that a
    # re-run with a newer model does not reopen a flag a moderator already dismissed.
    basis: tuple[str, ...] = ()
    plate_text: str = ""
    plate_format: str = ""

    @property
    def evidence_hash(self) -> str:
        payload = json.dumps([self.kind.value, self.key, *self.basis], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


def effective_readings(readings: Iterable[ReadingFacts]) -> list[ReadingFacts]:
    """Per photo: the newest moderator reading, else the newest engine version's readings."""
    by_photo: dict[int, list[ReadingFacts]] = defaultdict(list)
    for reading in readings:
        if reading.plate_text:
            by_photo[reading.photo_id].append(reading)
    chosen: list[ReadingFacts] = []
    for photo_readings in by_photo.values():
        human = [r for r in photo_readings if r.human]
        if human:
            chosen.append(max(human, key=lambda r: r.reading_id))
            continue
        newest = max(photo_readings, key=lambda r: r.reading_id).model_version
        chosen.extend(r for r in photo_readings if r.model_version == newest)
    return chosen


def _one_char_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def vote_plates(readings: Iterable[ReadingFacts]) -> list[PlateVote]:
    """Plates on the listing, most supported first."""
    best: dict[str, dict[int, ReadingFacts]] = defaultdict(dict)  # plate -> photo -> reading
    for reading in effective_readings(readings):
        plate = normalise_plate(reading.plate_text)
        current = best[plate].get(reading.photo_id)
        if current is None or reading.confidence > current.confidence:
            best[plate][reading.photo_id] = reading
    votes = []
    for plate, per_photo in best.items():
        doubt = 1.0
        for reading in per_photo.values():
            doubt *= 1.0 - min(max(reading.confidence, 0.0), 1.0)
        top = max(per_photo.values(), key=lambda r: r.confidence)
        votes.append(PlateVote(plate, tuple(sorted(per_photo)), 1.0 - doubt, top.plate_format))
    votes.sort(key=lambda v: (len(v.photos), v.confidence, v.plate), reverse=True)
    merged: list[PlateVote] = []
    for vote in votes:
        winner = next((m for m in merged if _one_char_apart(m.plate, vote.plate)), None)
        if winner is not None and vote.confidence < CONFIDENT:
            photos = tuple(sorted({*winner.photos, *vote.photos}))
            merged[merged.index(winner)] = replace(
                winner, photos=photos, variants=(*winner.variants, vote.plate)
            )
        else:
            merged.append(vote)
    return merged


def cap_for(confidence: float) -> Severity:
    if confidence >= CONFIDENT:
        return Severity.HIGH
    if confidence >= PLAUSIBLE:
        return Severity.MEDIUM
    return Severity.LOW


def current_record(records: Iterable[RecordFacts]) -> RecordFacts | None:
    """The latest registration: by D_REG, then by row order for the same day."""
    return max(records, key=lambda r: (r.d_reg, r.record_id), default=None)


@dataclass(frozen=True)
class _Subject:
    """The plate we believe the listing shows and the register records we compare with."""

    plate: str
    plate_source: PlateSource
    plate_confidence: float
    plate_format: str
    plate_records: tuple[RecordFacts, ...]  # the plate's history, oldest first
    vin_records: tuple[RecordFacts, ...]  # records of the declared VIN
    record: RecordFacts | None  # current record compared with the declared car

    @property
    def via_vin(self) -> bool:
        return not self.plate_records and self.record is not None

    @property
    def cap(self) -> Severity:
        # A declared VIN or plate is the seller's own word: only a photo reading is uncertain.
        if self.via_vin or self.plate_source is not PlateSource.PHOTOS:
            return Severity.HIGH
        return cap_for(self.plate_confidence)

    @property
    def history(self) -> tuple[RecordFacts, ...]:
        return self.plate_records or self.vin_records


def crosscheck(data: CrosscheckInput) -> list[Finding]:
    """All findings for one listing, in a stable order."""
    listing = data.listing
    votes = vote_plates(data.readings)
    subject = _subject(listing, votes, data.records)
    findings = [
        *_plate_findings(listing, votes, subject),
        *_vehicle_findings(listing, subject, data.records),
        *_other_listing_findings(listing, votes, subject, data.others),
    ]
    return sorted(findings, key=lambda f: (f.kind.value, f.key))


def _chronological(records: Iterable[RecordFacts]) -> tuple[RecordFacts, ...]:
    return tuple(sorted(records, key=lambda r: (r.d_reg, r.record_id)))


def _subject(
    listing: ListingFacts, votes: Sequence[PlateVote], records: Sequence[RecordFacts]
) -> _Subject:
    declared_plate = normalise_plate(listing.declared_plate)
    plate, source, confidence, fmt = declared_plate, PlateSource.DECLARED, 1.0, ""
    if votes:
        top = votes[0]
        plate, source, confidence = top.plate, PlateSource.PHOTOS, top.confidence
        fmt = top.plate_format
    elif not declared_plate:
        source = PlateSource.VIN
    plate_records = _chronological(r for r in records if plate and r.plate_latin == plate)
    vin = normalise_vin(listing.declared_vin)
    vin_records = _chronological(r for r in records if vin and r.vin == vin)
    record = current_record(plate_records) or current_record(vin_records)
    return _Subject(plate, source, confidence, fmt, plate_records, vin_records, record)


def _plate_findings(
    listing: ListingFacts, votes: Sequence[PlateVote], subject: _Subject
) -> list[Finding]:
    findings: list[Finding] = []
    plausible = [v for v in votes if v.confidence >= PLAUSIBLE]
    if len(plausible) > 1:
        # A second car in the background is common, so this is never more than MEDIUM.
        severity = Severity.MEDIUM if plausible[1].confidence >= CONFIDENT else Severity.LOW
        findings.append(
            Finding(
                Kind.MULTIPLE_PLATES,
                "",
                severity,
                {"plates": [_vote_evidence(v) for v in plausible]},
                tuple(sorted(v.plate for v in plausible)),
                plausible[0].plate,
                plausible[0].plate_format,
            )
        )
    declared = normalise_plate(listing.declared_plate)
    if declared and votes and declared not in {v.plate for v in votes}:
        top = votes[0]
        if declared not in top.variants:
            findings.append(
                Finding(
                    Kind.DECLARED_PLATE_MISMATCH,
                    "",
                    cap_for(top.confidence),
                    {"declared": listing.declared_plate, "photos": _vote_evidence(top)},
                    (declared, top.plate),
                    top.plate,
                    top.plate_format,
                )
            )
    if subject.plate and not subject.plate_records:
        finding = _plate_not_in_register(subject)
        if finding is not None:
            findings.append(finding)
    return findings


def _plate_not_in_register(subject: _Subject) -> Finding | None:
    registered_plates = sorted({r.plate_latin for r in subject.vin_records if r.plate_latin})
    if subject.vin_records and not registered_plates:
        return None  # the VIN is only in plate-less (2026) files: nothing to contradict
    if subject.plate_source is not PlateSource.PHOTOS:
        severity = Severity.MEDIUM  # a typo in a form is likelier than a fake plate
    elif subject.plate_format and not subject.plate_format.startswith(UKRAINIAN_FORMATS):
        severity = Severity.LOW  # foreign or unreadable format: the register cannot know it
    else:
        severity = cap_for(subject.plate_confidence)
    evidence: dict[str, Any] = {
        "plate": subject.plate,
        "source": subject.plate_source.value,
        "confidence": round(subject.plate_confidence, 3),
        "plate_format": subject.plate_format,
    }
    if registered_plates:
        evidence["declared_vin_plates"] = registered_plates
    return Finding(
        Kind.PLATE_NOT_IN_REGISTER,
        subject.plate,
        severity,
        evidence,
        (subject.plate, *registered_plates),
        subject.plate,
        subject.plate_format,
    )


def _vehicle_checks(
    listing: ListingFacts, record: RecordFacts
) -> list[tuple[Kind, Severity, str, str]]:
    """The declared car against the register record: (kind, base severity, declared, registered)
    for each difference."""
    checks: list[tuple[Kind, Severity, str, str]] = []  # kind, base severity, declared, registered
    make = compare_make(listing.declared_make, record.make_norm or record.brand)
    if make is Match.MISMATCH:
        checks.append((Kind.MAKE_MISMATCH, Severity.HIGH, listing.declared_make, record.brand))
    elif compare_model(_declared_model(listing), record.model_norm, record.make_norm) is (
        Match.MISMATCH
    ):
        checks.append((Kind.MODEL_MISMATCH, Severity.MEDIUM, listing.declared_model, record.model))
    if compare_colour(listing.declared_colour, record.colour) is Match.MISMATCH:
        checks.append(
            (Kind.COLOUR_MISMATCH, Severity.MEDIUM, listing.declared_colour, record.colour)
        )
    if listing.declared_year and record.make_year:
        gap = abs(listing.declared_year - record.make_year)
        if gap:
            base = Severity.LOW if gap == 1 else Severity.MEDIUM if gap < 5 else Severity.HIGH
            checks.append(
                (Kind.YEAR_MISMATCH, base, str(listing.declared_year), str(record.make_year))
            )
    declared_vin = normalise_vin(listing.declared_vin)
    if declared_vin and record.vin and not same_vin(declared_vin, record.vin):
        checks.append((Kind.VIN_MISMATCH, Severity.HIGH, declared_vin, record.vin))
    return checks


def _vehicle_findings(
    listing: ListingFacts, subject: _Subject, records: Sequence[RecordFacts]
) -> list[Finding]:
    if subject.record is None:
        return []
    record = subject.record
    findings = []
    for kind, base, declared, registered in _vehicle_checks(listing, record):
        earlier = _earlier_match(kind, listing, subject, record)
        severity = min(base, subject.cap)
        if earlier is not None:  # the plate used to be on the declared car: re-plated, old photos
            severity = Severity(max(Severity.LOW, severity - 1))
        evidence: dict[str, Any] = {
            "declared": declared,
            "registered": registered,
            "plate": subject.plate,
            "plate_source": subject.plate_source.value,
            "matched_by": "vin" if subject.via_vin else "plate",
            "confidence": round(subject.plate_confidence, 3),
            "record": record.summary(),
            "history": [r.summary() for r in subject.history if r is not record][-5:],
        }
        if earlier is not None:
            evidence["earlier_match"] = earlier.summary()
        if kind is Kind.VIN_MISMATCH:
            owners = [r for r in records if r.vin == declared]
            evidence["declared_vin_records"] = [r.summary() for r in owners][-5:]
        findings.append(
            Finding(
                kind,
                "",
                severity,
                evidence,
                # The record by date and VIN, not by id: a rebuilt register must not reopen.
                (subject.plate, declared, registered, record.d_reg.isoformat(), record.vin),
                subject.plate,
                subject.plate_format,
            )
        )
    return findings


def _earlier_match(
    kind: Kind, listing: ListingFacts, subject: _Subject, current: RecordFacts
) -> RecordFacts | None:
    for record in sorted(subject.history, key=lambda r: (r.d_reg, r.record_id), reverse=True):
        if record is current:
            continue
        if (
            kind is Kind.MAKE_MISMATCH
            and compare_make(listing.declared_make, record.make_norm) is Match.MATCH
        ):
            return record
        if kind is Kind.MODEL_MISMATCH and compare_model(
            _declared_model(listing), record.model_norm, record.make_norm
        ) in (Match.MATCH, Match.SOFT):
            return record
    return None


def _declared_model(listing: ListingFacts) -> str:
    return declared_model(listing.declared_make, listing.declared_model)


def _other_listing_findings(
    listing: ListingFacts,
    votes: Sequence[PlateVote],
    subject: _Subject,
    others: Sequence[OtherListingFacts],
) -> list[Finding]:
    confidence = {v.plate: v.confidence for v in votes}
    declared = normalise_plate(listing.declared_plate)
    if declared:
        confidence.setdefault(declared, 1.0)
    by_plate: dict[str, list[OtherListingFacts]] = defaultdict(list)
    for other in others:
        plate = normalise_plate(other.plate_text)
        if other.listing_id != listing.listing_id and plate in confidence:
            by_plate[plate].append(other)
    findings = []
    for plate, matches in sorted(by_plate.items()):
        unique = {o.listing_id: o for o in matches}
        foreign = [
            o for o in unique.values() if o.owner_id is None or o.owner_id != listing.owner_id
        ]
        # The same partner relisting a car is routine; another seller showing it is not.
        base = Severity.MEDIUM if foreign else Severity.LOW
        findings.append(
            Finding(
                Kind.PLATE_ON_OTHER_LISTING,
                plate,
                min(base, cap_for(confidence[plate])),
                {
                    "plate": plate,
                    "listings": [
                        {
                            "listing_id": o.listing_id,
                            "marketplace_id": o.marketplace_id,
                            "via": o.via,
                        }
                        for o in sorted(unique.values(), key=lambda o: o.listing_id)
                    ],
                },
                (plate, *sorted(str(i) for i in unique)),
                plate,
                subject.plate_format if subject.plate == plate else "",
            )
        )
    return findings


def _vote_evidence(vote: PlateVote) -> dict[str, Any]:
    return {
        "plate": vote.plate,
        "photos": list(vote.photos),
        "confidence": round(vote.confidence, 3),
        "variants": list(vote.variants),
    }
