"""What the cross-check can vouch for: the positive side of its findings (pure, no Django).

The rules (``registry.crosscheck``) say what is wrong with a listing. A marketplace also wants to
say what is right: a "plate checked" badge on a listing whose photos show a plate, read surely,
whose current register record is the car the seller declared. ``verdict`` says whether the
facts carry that, and if not, why not. ``webapp.checks`` keeps it with the listing at each
cross-check and combines it with the listing's flags and photos into the state partners see.

A seller's own word is no proof: a plate only declared, or a car found only by its declared VIN,
is never verified, however well the register agrees with it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any

from registry.crosscheck import listing_subject, vehicle_checks
from registry.crosscheck_facts import CrosscheckInput, PlateSource
from registry.crosscheck_votes import CONFIDENT
from registry.normalise import (
    Match,
    compare_colour,
    compare_make,
    compare_model,
    declared_model,
    normalise_vin,
)


class Unverified(enum.StrEnum):
    """Why a listing is not verified (the first that applies, in this order)."""

    NO_PLATE = "no_plate"  # no plate read on the photos, none declared, no VIN
    PLATE_NOT_ON_PHOTOS = "plate_not_on_photos"  # only the seller's plate or VIN to go on
    PLATE_UNSURE = "plate_unsure"  # the photos' plate read below CONFIDENT
    NOT_IN_REGISTER = "not_in_register"  # no record of the plate
    PLATE_DEREGISTERED = "plate_deregistered"  # the plate's latest record took it off its car
    CAR_DIFFERS = "car_differs"  # the record's car is not the declared one (flagged)
    CAR_NOT_COMPARED = "car_not_compared"  # the declared make is blank or not understood


@dataclass(frozen=True)
class Verdict:
    plate: str = ""
    plate_source: str = ""  # PlateSource, or "" with nothing to go on
    plate_confidence: float = 0.0
    # The register record compared with (``RecordFacts.summary``), None when there is none.
    record: dict[str, Any] | None = None
    # make, model, colour, year: the declared value against the record's (a ``Match`` value).
    fields: dict[str, str] = field(default_factory=dict)
    reason: Unverified | None = None  # None: verified

    @property
    def verified(self) -> bool:
        return self.reason is None


def _fields(data: CrosscheckInput, record: Any) -> dict[str, str]:
    listing = data.listing
    year = Match.UNKNOWN
    if listing.declared_year and record.make_year:
        year = Match.MATCH if listing.declared_year == record.make_year else Match.MISMATCH
    model = declared_model(listing.declared_make, listing.declared_model)
    return {
        "make": compare_make(listing.declared_make, record.make_norm or record.brand).value,
        "model": compare_model(model, record.model_norm, record.make_norm).value,
        "colour": compare_colour(listing.declared_colour, record.colour).value,
        "year": year.value,
    }


def verdict(data: CrosscheckInput) -> Verdict:
    """Whether the facts vouch for the listing's car, and what they rest on."""
    subject = listing_subject(data)
    source = subject.plate_source
    if not subject.plate and not normalise_vin(data.listing.declared_vin):
        return Verdict(reason=Unverified.NO_PLATE)
    record = subject.record
    base = Verdict(
        plate=subject.plate,
        plate_source=source.value,
        plate_confidence=round(subject.plate_confidence, 3),
        record=record.summary() if record is not None else None,
        fields=_fields(data, record) if record is not None else {},
    )
    reason: Unverified | None = None
    if source is not PlateSource.PHOTOS:
        reason = Unverified.PLATE_NOT_ON_PHOTOS
    elif subject.plate_confidence < CONFIDENT:
        reason = Unverified.PLATE_UNSURE
    elif subject.removal is not None:
        reason = Unverified.PLATE_DEREGISTERED
    elif not subject.plate_records or record is None or subject.via_vin:
        reason = Unverified.NOT_IN_REGISTER
    elif vehicle_checks(data.listing, record):
        reason = Unverified.CAR_DIFFERS
    elif base.fields["make"] not in (Match.MATCH.value, Match.SOFT.value):
        reason = Unverified.CAR_NOT_COMPARED
    return replace(base, reason=reason)


__all__ = ["Unverified", "Verdict", "verdict"]
