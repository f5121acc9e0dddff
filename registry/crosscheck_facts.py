"""The facts the cross-check rules read, as typed frozen dataclasses (pure, no Django).

``webapp.checks.facts`` fills them from the database; ``registry.crosscheck`` judges them.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from registry.normalise import is_deregistration


class PlateSource(enum.StrEnum):
    PHOTOS = "photos"
    DECLARED = "declared"
    VIN = "vin"


@dataclass(frozen=True)
class ListingFacts:
    listing_id: int
    owner_id: int | None = None
    declared_make: str = ""
    declared_model: str = ""
    declared_colour: str = ""
    declared_year: int | None = None
    declared_plate: str = ""
    declared_vin: str = ""


@dataclass(frozen=True)
class ReadingFacts:
    reading_id: int  # larger is newer
    photo_id: int
    plate_text: str
    confidence: float
    model_version: str = ""
    plate_format: str = ""
    human: bool = False


@dataclass(frozen=True)
class RecordFacts:
    record_id: int  # insertion order = row order: the tie-breaker after d_reg
    d_reg: dt.date
    plate: str = ""  # as in the register (Cyrillic)
    plate_latin: str = ""
    vin: str = ""
    brand: str = ""
    model: str = ""
    make_norm: str = ""
    model_norm: str = ""
    colour: str = ""
    make_year: int | None = None
    oper_name: str = ""
    oper_code: int | None = None

    @property
    def deregistered(self) -> bool:
        """The operation took the car off the register (``registry.normalise``)."""
        return is_deregistration(self.oper_name)

    def summary(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "d_reg": self.d_reg.isoformat(),
            "plate": self.plate,
            "vin": self.vin,
            "brand": self.brand,
            "model": self.model,
            "colour": self.colour,
            "make_year": self.make_year,
            "operation": self.oper_name,
        }


@dataclass(frozen=True)
class OtherListingFacts:
    listing_id: int
    marketplace_id: str
    plate_text: str
    owner_id: int | None = None
    via: str = PlateSource.PHOTOS  # photos or declared


@dataclass(frozen=True)
class WatchFacts:
    """An entry of the marketplace's watch list (``registry.models.WatchEntry``)."""

    entry_id: int
    plate: str = ""  # a plate key (``normalise_plate``)
    vin: str = ""  # ``normalise.vin_key``
    reason: str = "stolen"  # stolen, fraud or other
    source: str = ""
    note: str = ""
    added_on: dt.date | None = None


@dataclass(frozen=True)
class CrosscheckInput:
    listing: ListingFacts
    readings: tuple[ReadingFacts, ...] = ()
    records: tuple[RecordFacts, ...] = ()  # every record for the read/declared plates and VIN
    others: tuple[OtherListingFacts, ...] = ()
    watched: tuple[WatchFacts, ...] = ()  # watch-list entries for its plates and VIN
