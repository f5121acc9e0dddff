"""Read-side queries of the register and the facts the cross-check rules need."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from recognition.models import Reading
from registry.crosscheck import (
    PLAUSIBLE,
    CrosscheckInput,
    ListingFacts,
    OtherListingFacts,
    PlateSource,
    ReadingFacts,
    RecordFacts,
)
from registry.models import RegisterRecord
from registry.normalise import normalise_plate, normalise_vin, to_cyrillic
from webapp.listings.models import Listing

# Enough history to show a plate's past cars; a plate with more operations is a fleet plate.
HISTORY_LIMIT = 50
# Other listings shown as evidence: a moderator needs a handful, not every duplicate.
OTHER_LISTINGS_LIMIT = 20


_CURRENT_FOR_PLATE_SQL = (
    f"SELECT * FROM {RegisterRecord._meta.db_table} WHERE plate_latin = %s"
    " ORDER BY d_reg DESC, id DESC LIMIT 1"
)


def register_records_for_plate(*, plate: str) -> QuerySet[RegisterRecord]:
    """Every operation for a plate (Latin or Cyrillic, any spacing), newest first."""
    key = normalise_plate(plate)
    return (
        RegisterRecord.objects.filter(plate_latin=key).order_by("-d_reg", "-id")
        if key
        else (RegisterRecord.objects.none())
    )


def register_current_for_plate(*, plate: str) -> RegisterRecord | None:
    """The latest registration of a plate: by D_REG, then by row order for the same day."""
    key = normalise_plate(plate)
    if not key:
        return None
    # The hottest lookup: raw SQL skips the ORM's query compilation, a third of its latency.
    records = RegisterRecord.objects.raw(_CURRENT_FOR_PLATE_SQL, [key])
    return next(iter(records), None)


def register_records_for_vin(*, vin: str) -> QuerySet[RegisterRecord]:
    key = normalise_vin(vin)
    if not key:
        return RegisterRecord.objects.none()
    return RegisterRecord.objects.filter(vin=key).order_by("-d_reg", "-id")


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
    plates = {normalise_plate(r.plate_text) for r in readings} - {""}
    declared_plate = normalise_plate(listing.declared_plate)
    if declared_plate:
        plates.add(declared_plate)
    vin = normalise_vin(listing.declared_vin)
    records: list[RecordFacts] = []
    for plate in sorted(plates):
        records.extend(
            _record_facts(r) for r in register_records_for_plate(plate=plate)[:HISTORY_LIMIT]
        )
    if vin:
        records.extend(_record_facts(r) for r in register_records_for_vin(vin=vin)[:HISTORY_LIMIT])
    unique_records = tuple({r.record_id: r for r in records}.values())
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
        records=unique_records,
        others=tuple(_other_listings(listing_id=listing.pk, plates=plates)),
    )


def _other_listings(*, listing_id: int, plates: set[str]) -> list[OtherListingFacts]:
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
