"""Reads for re-running the cross-check: which listings a rule concerns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

from recognition.models import Reading
from recognition.pipeline.regions import normalise_plate
from registry.normalise import normalise_vin
from registry.selectors import register_keys_deregistered
from webapp.listings.models import Listing

# Listings per batch: one query each for them, their readings, their plates' and their VINs'
# latest register operations, and (the service) one short outbox transaction.
LISTING_BATCH = 1_000


@dataclass(frozen=True)
class ListingBatch:
    scanned: int  # listings looked at
    listing_ids: list[int]  # those of them the rule concerns


def listings_deregistered(*, batch: int = LISTING_BATCH) -> Iterator[ListingBatch]:
    """Every listing, ``batch`` at a time by id, and of each batch those whose read plate,
    declared plate or declared VIN has a removal as its current register record: the facts of
    ``plate_deregistered`` and ``vin_deregistered``. Keyset-paged, so no cursor stays open
    between batches and listings added meanwhile are seen."""
    last = 0
    while True:
        rows = list(
            Listing.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "declared_plate", "declared_vin")[:batch]
        )
        if not rows:
            return
        last = rows[-1][0]
        plates: dict[int, set[str]] = defaultdict(set)
        vins: dict[int, str] = {}
        for pk, plate, vin in rows:
            plates[pk].add(normalise_plate(plate))
            vins[pk] = normalise_vin(vin)
        # Every reading, not only those the rules vote with: a listing too many is only
        # checked once more, and a check changes nothing that is already right.
        read = (
            Reading.objects.filter(photo__listing_id__in=[pk for pk, _, _ in rows])
            .exclude(plate_text="")
            .values_list("photo__listing_id", "plate_text")
            .distinct()
        )
        for pk, text in read:
            plates[pk].add(normalise_plate(text))
        off_plates = register_keys_deregistered(
            field="plate_latin", keys=chain.from_iterable(plates.values())
        )
        off_vins = register_keys_deregistered(field="vin", keys=vins.values())
        ids = {pk for pk, keys in plates.items() if keys & off_plates}
        ids.update(pk for pk, vin in vins.items() if vin in off_vins)
        yield ListingBatch(len(rows), sorted(ids))
