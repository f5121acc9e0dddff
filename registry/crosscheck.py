"""Cross-check rules: a listing, its plate readings and the register -> findings.

Pure and Django-free: frozen dataclasses in, frozen dataclasses out. ``webapp.checks.facts`` loads
the facts from the database and turns findings into ``Flag`` rows; the bench and the tests call
``crosscheck`` directly.

Rules, in short:
- the photos vote for the plates they show (``registry.crosscheck_votes``);
- the car to compare with is the current register record (latest ``D_REG``, a registration
  after a removal of the same day, then row order) of the voted plate, else of the declared
  plate, else of the declared VIN (2026 files have no plates);
- a plate whose current record is a removal from the register (``ЗНЯТТЯ З ОБЛІКУ``) is on no
  registered car: it is flagged, and the car it left is not compared with (the declared VIN's
  car is, if there is one);
- a declared VIN whose current record is a removal is a car off the register (exported,
  scrapped, for sale...): flagged by what the removal says, whatever the photos show;
- a finding's severity is capped by how sure we are of the plate, so a blurry reading gives a
  low-severity flag instead of a false alarm;
- a plate or VIN on the marketplace's watch list is flagged (``registry.crosscheck_watch``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from recognition.pipeline.regions import normalise_plate
from registry.crosscheck_facts import (
    CrosscheckInput,
    ListingFacts,
    OtherListingFacts,
    PlateSource,
    RecordFacts,
)
from registry.crosscheck_findings import Finding, Kind, Severity, cap_for
from registry.crosscheck_votes import CONFIDENT, PLAUSIBLE, PlateVote, vote_plates
from registry.crosscheck_watch import watch_findings
from registry.normalise import (
    Match,
    Removal,
    compare_colour,
    compare_make,
    compare_model,
    declared_model,
    normalise_vin,
    removal_reason,
    same_vin,
)

# Engine plate formats the Ukrainian register can hold (ua_2015, ua_2004, ua_square).
UKRAINIAN_FORMATS = "ua_"


def _recency(record: RecordFacts) -> tuple[dt.date, bool, int]:
    # On one day a plate can leave a car and then go on another, never the other way round, so
    # a registration is later than a removal of the same day whatever the rows' order (an id
    # is the import's order: a later import's rows come after, whatever their day).
    return (record.d_reg, not record.deregistered, record.record_id)


def current_record(records: Iterable[RecordFacts]) -> RecordFacts | None:
    """The latest operation: by D_REG, a registration after a removal of the same day, then by
    row order. It may be a removal (``RecordFacts.deregistered``)."""
    return max(records, key=_recency, default=None)


@dataclass(frozen=True)
class Subject:
    """The plate we believe the listing shows and the register records we compare with."""

    plate: str
    plate_source: PlateSource
    plate_confidence: float
    plate_format: str
    plate_records: tuple[RecordFacts, ...]  # the plate's history, oldest first
    vin_records: tuple[RecordFacts, ...]  # records of the declared VIN
    record: RecordFacts | None  # the record of the car compared with the declared one
    via_vin: bool  # the record is the declared VIN's: the plate is unknown or on no car now
    removal: RecordFacts | None  # the plate's current record when it took the plate off its car

    @property
    def plate_cap(self) -> Severity:
        # A declared plate is the seller's own word: only a photo reading is uncertain.
        if self.plate_source is not PlateSource.PHOTOS:
            return Severity.HIGH
        return cap_for(self.plate_confidence)

    @property
    def cap(self) -> Severity:
        return Severity.HIGH if self.via_vin else self.plate_cap

    @property
    def vin_removal(self) -> RecordFacts | None:
        """The declared VIN's current record when it took the car off the register."""
        latest = current_record(self.vin_records)
        return latest if latest is not None and latest.deregistered else None

    @property
    def history(self) -> tuple[RecordFacts, ...]:
        return self.vin_records if self.via_vin else self.plate_records


def crosscheck(data: CrosscheckInput) -> list[Finding]:
    """All findings for one listing, in a stable order."""
    listing = data.listing
    votes = vote_plates(data.readings)
    subject = _subject(listing, votes, data.records)
    findings = [
        *_plate_findings(listing, votes, subject),
        *_vehicle_findings(listing, subject, data.records),
        *_other_listing_findings(listing, votes, subject, data.others),
        *watch_findings(listing, votes, data.watched),
    ]
    return sorted(findings, key=lambda f: (f.kind.value, f.key))


def listing_subject(data: CrosscheckInput) -> Subject:
    """The plate the rules take the listing to show, and the register records they compare the
    declared car with (``registry.crosscheck_verdict`` reads it)."""
    return _subject(data.listing, vote_plates(data.readings), data.records)


def _chronological(records: Iterable[RecordFacts]) -> tuple[RecordFacts, ...]:
    return tuple(sorted(records, key=_recency))


def _subject(
    listing: ListingFacts, votes: Sequence[PlateVote], records: Sequence[RecordFacts]
) -> Subject:
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
    latest = current_record(plate_records)
    removal = latest if latest is not None and latest.deregistered else None
    # A VIN never leaves its car, so the VIN's latest record describes the declared car even
    # when it is a removal; a plate's removal describes a car the plate is no longer on.
    record = latest if removal is None else None
    via_vin = record is None and bool(vin_records)
    if via_vin:
        record = current_record(vin_records)
    return Subject(
        plate, source, confidence, fmt, plate_records, vin_records, record, via_vin, removal
    )


def _plate_findings(
    listing: ListingFacts, votes: Sequence[PlateVote], subject: Subject
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
    # The declared car's own removal, its plate with it, is one event: the VIN's flag tells it.
    vin_removal = subject.vin_removal
    if subject.removal is not None and subject.removal != vin_removal:
        findings.append(_plate_deregistered(listing, subject, subject.removal))
    if vin_removal is not None:
        findings.append(_vin_deregistered(subject, vin_removal))
    return findings


def _plate_deregistered(listing: ListingFacts, subject: Subject, removal: RecordFacts) -> Finding:
    """The plate's latest operation took its car off the register: no registered car wears it."""
    same_car = _is_declared_car(listing, removal)
    severity = subject.plate_cap
    if same_car:  # the car itself left the register and still shows its plate (or old photos)
        severity = Severity(max(Severity.LOW, severity - 1))
    evidence: dict[str, Any] = {
        "plate": subject.plate,
        "source": subject.plate_source.value,
        "confidence": round(subject.plate_confidence, 3),
        "plate_format": subject.plate_format,
        "deregistered_on": removal.d_reg.isoformat(),
        "operation": removal.oper_name,
        "operation_code": removal.oper_code,
        "left_car": removal.summary(),
        "same_car": same_car,
        "history": [r.summary() for r in subject.plate_records if r is not removal][-5:],
    }
    return Finding(
        Kind.PLATE_DEREGISTERED,
        subject.plate,
        severity,
        evidence,
        # By date, VIN and operation, not by id: a rebuilt register must not reopen it.
        (subject.plate, removal.d_reg.isoformat(), removal.vin, removal.oper_name, str(same_car)),
        subject.plate,
        subject.plate_format,
    )


# A declared VIN is the seller's own word, so no reading caps these: a car exported or scrapped
# has no business being sold here; one taken off the register for sale is what traders list.
_VIN_REMOVAL_SEVERITY = {
    Removal.EXPORT: Severity.HIGH,
    Removal.SCRAPPED: Severity.HIGH,
    Removal.OTHER: Severity.MEDIUM,
    Removal.SALE: Severity.LOW,
}


def _vin_deregistered(subject: Subject, removal: RecordFacts) -> Finding:
    """The declared VIN's latest operation took its car off the register (a later registration
    of the VIN, or a removal undone, would be its latest operation instead)."""
    reason = removal_reason(removal.oper_name)
    evidence: dict[str, Any] = {
        "vin": removal.vin,
        "deregistered_on": removal.d_reg.isoformat(),
        "operation": removal.oper_name,
        "operation_code": removal.oper_code,
        "reason": reason.value,
        "record": removal.summary(),
        "plate": subject.plate,
        "plate_source": subject.plate_source.value,
        "history": [r.summary() for r in subject.vin_records if r is not removal][-5:],
    }
    return Finding(
        Kind.VIN_DEREGISTERED,
        removal.vin,
        _VIN_REMOVAL_SEVERITY[reason],
        evidence,
        # By date, operation and plate, not by id: a rebuilt register must not reopen it.
        (removal.vin, removal.d_reg.isoformat(), removal.oper_name, removal.plate_latin),
        subject.plate,
        subject.plate_format,
    )


def _is_declared_car(listing: ListingFacts, record: RecordFacts) -> bool:
    """The declared car is the record's: by VIN when both have one, else by make and model."""
    declared_vin = normalise_vin(listing.declared_vin)
    if declared_vin and record.vin:
        return same_vin(declared_vin, record.vin)
    make = compare_make(listing.declared_make, record.make_norm or record.brand)
    model = compare_model(_declared_model(listing), record.model_norm, record.make_norm)
    return make in (Match.MATCH, Match.SOFT) and model is not Match.MISMATCH


def _plate_not_in_register(subject: Subject) -> Finding | None:
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


def vehicle_checks(
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
    listing: ListingFacts, subject: Subject, records: Sequence[RecordFacts]
) -> list[Finding]:
    if subject.record is None:
        return []
    record = subject.record
    findings = []
    for kind, base, declared, registered in vehicle_checks(listing, record):
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
    kind: Kind, listing: ListingFacts, subject: Subject, current: RecordFacts
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
    subject: Subject,
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
