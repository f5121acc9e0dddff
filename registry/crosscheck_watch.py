"""The watch list's rule (pure, mypy strict): a listing that shows or declares a plate, or declares
a VIN, on the marketplace's watch list (a car reported stolen, one used in a fraud) is flagged.

A plate read on the photos is the plate the photos vote for (``registry.crosscheck_votes``),
exactly: a misread one character away is a different plate, and a stolen car's plate is too
grave a charge to lay on a look-alike. A reading's flag is capped by how sure the photos are;
a declared plate or VIN is the seller's own word and is not.
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions import normalise_plate
from registry.crosscheck_facts import ListingFacts, PlateSource, WatchFacts
from registry.crosscheck_findings import Finding, Kind, Severity, cap_for
from registry.crosscheck_votes import PlateVote
from registry.normalise import vin_key

# A car reported stolen or used in a fraud is the gravest thing a listing can show; "other"
# (a reason the marketplace keeps to itself) asks a moderator to look, no more.
SEVERITY = {"stolen": Severity.HIGH, "fraud": Severity.HIGH}
OTHER_SEVERITY = Severity.MEDIUM


def watch_findings(
    listing: ListingFacts, votes: Sequence[PlateVote], watched: Sequence[WatchFacts]
) -> list[Finding]:
    """One finding per watched plate the listing shows or declares, and per watched VIN it
    declares."""
    findings: list[Finding] = []
    declared_plate = normalise_plate(listing.declared_plate)
    declared_vin = vin_key(listing.declared_vin)
    by_plate = {vote.plate: vote for vote in votes}
    for entry in watched:
        severity = SEVERITY.get(entry.reason, OTHER_SEVERITY)
        vote = by_plate.get(entry.plate) if entry.plate else None
        if entry.plate and entry.plate == declared_plate:
            findings.append(_finding(Kind.PLATE_WATCHED, entry.plate, severity, entry,
                                     PlateSource.DECLARED, vote))  # fmt: skip
        elif vote is not None:
            capped = min(severity, cap_for(vote.confidence))
            findings.append(_finding(Kind.PLATE_WATCHED, entry.plate, capped, entry,
                                     PlateSource.PHOTOS, vote))  # fmt: skip
        if entry.vin and entry.vin == declared_vin:
            findings.append(_finding(Kind.VIN_WATCHED, entry.vin, severity, entry,
                                     PlateSource.DECLARED, None))  # fmt: skip
    return findings


def _finding(
    kind: Kind,
    key: str,
    severity: Severity,
    entry: WatchFacts,
    via: PlateSource,
    vote: PlateVote | None,
) -> Finding:
    evidence = {
        "watch_entry": entry.entry_id,
        "reason": entry.reason,
        "source": entry.source,
        "note": entry.note,
        "added_on": entry.added_on.isoformat() if entry.added_on else None,
        "via": via.value,
        "photos": list(vote.photos) if vote else [],
        "confidence": round(vote.confidence, 3) if vote else None,
    }
    plate = key if kind is Kind.PLATE_WATCHED else ""
    # The entry and the reason are what a moderator decides on: a new entry, or the same one
    # with another reason, reopens a dismissed flag; another reading of the photos does not.
    basis = (str(entry.entry_id), entry.reason)
    return Finding(kind, key, Severity(severity), evidence, basis, plate_text=plate)
