"""The facts a cross-check needs, gathered from the database: a listing, its readings, the
register records of its plates and VIN, the other listings that show the same plate, and the
watch-list entries for its plates and VIN.

Reads only. The rules that judge these facts are ``registry.crosscheck`` (pure, no Django).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from recognition.models import Reading
from recognition.pipeline.regions import normalise_plate
from registry.crosscheck_facts import (
    CrosscheckInput,
    ListingFacts,
    OtherListingFacts,
    PlateSource,
    ReadingFacts,
    RecordFacts,
)
from registry.crosscheck_votes import PLAUSIBLE
from registry.models import RegisterRecord
from registry.normalise import normalise_vin, to_cyrillic
from registry.selectors import HISTORY_LIMIT, register_records_for_plate, register_records_for_vin
from registry.watchlist import watch_facts_for
from webapp.listings.models import Listing

# Other listings shown as evidence: a moderator needs a handful, not every duplicate.
OTHER_LISTINGS_LIMIT = 20


def _record_facts(record: RegisterRecord) -> RecordFacts:
    return RecordFacts(
        record_id=record.pk,
        d_reg=record.d_reg,
        plate=record.plate,
        plate_latin=record.plate_latin,
        vin=record.vin,
        brand=record.brand,
        model=record.model,
        make_norm=record.make_norm,
        model_norm=record.model_norm,
        colour=record.colour,
        make_year=record.make_year,
        oper_name=record.oper_name,
        oper_code=record.oper_code,
    )


def crosscheck_input_for_listing(*, listing: Listing) -> CrosscheckInput:
    """Everything ``registry.crosscheck.crosscheck`` needs about one listing."""
    readings = tuple(
        ReadingFacts(
            reading_id=r.pk,
            photo_id=r.photo_id,
            plate_text=r.plate_text,
            confidence=r.confidence,
            model_version=r.model_version,
            plate_format=r.plate_format,
            human=r.source == Reading.Source.HUMAN,
        )
        for r in Reading.objects.filter(photo__listing_id=listing.pk).only(
            "id", "photo_id", "plate_text", "confidence", "model_version", "plate_format", "source"
        )
    )
    plates = plate_keys(readings=(r.plate_text for r in readings), declared=listing.declared_plate)
    return CrosscheckInput(
        listing=ListingFacts(
            listing_id=listing.pk,
            owner_id=listing.owner_id,
            declared_make=listing.declared_make,
            declared_model=listing.declared_model,
            declared_colour=listing.declared_colour,
            declared_year=listing.declared_year,
            declared_plate=listing.declared_plate,
            declared_vin=listing.declared_vin,
        ),
        readings=readings,
        records=register_facts(plates=plates, vin=listing.declared_vin),
        others=tuple(other_listings_for_plates(listing_id=listing.pk, plates=plates)),
        watched=watch_facts_for(plates=plates, vin=listing.declared_vin),
    )


def crosscheck_input_for_photo(
    *, declared: ListingFacts, readings: tuple[ReadingFacts, ...]
) -> CrosscheckInput:
    """The facts of one photo read now (no listing: `declared` holds what its sender says the
    car is), for the verdict: its readings and the register records of their plates and VIN."""
    plates = plate_keys(readings=(r.plate_text for r in readings), declared=declared.declared_plate)
    return CrosscheckInput(
        listing=declared,
        readings=readings,
        records=register_facts(plates=plates, vin=declared.declared_vin),
    )


def register_facts(*, plates: Iterable[str], vin: str = "") -> tuple[RecordFacts, ...]:
    """The register records of the plate keys and the VIN, each once (newest first, at most
    HISTORY_LIMIT a plate)."""
    records: list[RecordFacts] = []
    for plate in sorted(set(plates)):
        records.extend(
            _record_facts(r) for r in register_records_for_plate(plate=plate)[:HISTORY_LIMIT]
        )
    vin = normalise_vin(vin)
    if vin:
        records.extend(_record_facts(r) for r in register_records_for_vin(vin=vin)[:HISTORY_LIMIT])
    return tuple({r.record_id: r for r in records}.values())


def plate_keys(*, readings: Iterable[str], declared: str) -> set[str]:
    """The plate keys of a listing's reading texts and its declared plate."""
    return {normalise_plate(text) for text in (*readings, declared)} - {""}


def other_listings_for_plates(*, listing_id: int, plates: Iterable[str]) -> list[OtherListingFacts]:
    """Other listings that show one of ``plates`` (keys): read with some confidence (or by a
    moderator) on a photo, or declared. The one query behind the flag's evidence and the flag
    page's "other listings", so the two never disagree; at most ``OTHER_LISTINGS_LIMIT`` each.
    """
    plates = set(plates)
    if not plates:
        return []
    found: dict[tuple[int, str], OtherListingFacts] = {}
    seen_in_photos = (
        Reading.objects.filter(plate_text__in=plates)
        .filter(Q(confidence__gte=PLAUSIBLE) | Q(source=Reading.Source.HUMAN))
        .exclude(photo__listing_id=listing_id)
        .values_list(
            "photo__listing_id",
            "photo__listing__marketplace_id",
            "photo__listing__owner_id",
            "plate_text",
        )
        .distinct()[:OTHER_LISTINGS_LIMIT]
    )
    for other_id, marketplace_id, owner_id, plate in seen_in_photos:
        found[(other_id, plate)] = OtherListingFacts(
            other_id, marketplace_id, plate, owner_id, PlateSource.PHOTOS
        )
    # Declared plates are stored as typed; the two usual spellings cover almost all of them.
    spellings = {spelling for plate in plates for spelling in (plate, to_cyrillic(plate))}
    declared = (
        Listing.objects.filter(declared_plate__in=spellings)
        .exclude(pk=listing_id)
        .values_list("pk", "marketplace_id", "owner_id", "declared_plate")[:OTHER_LISTINGS_LIMIT]
    )
    for other_id, marketplace_id, owner_id, plate_text in declared:
        plate = normalise_plate(plate_text)
        found.setdefault(
            (other_id, plate),
            OtherListingFacts(other_id, marketplace_id, plate, owner_id, PlateSource.DECLARED),
        )
    return list(found.values())
