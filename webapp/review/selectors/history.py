"""Everything known about one plate: the page a moderator opens when a plate shows up twice.

"The plate" is its confusion key (``AA1234BB`` and ``AA1234B8`` are one plate): readings whose
own text or one of whose alternatives folds to it, listings that declared it, gate passages that
voted for it and the stays on sites they began or ended, the register's records over time, the
flags on those listings and the moderators' decisions on them, and the watch list's entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q

from recognition.models import Reading
from recognition.pipeline.regions import normalise_plate
from registry.models import WatchEntry
from registry.selectors import RegisterAge, register_age
from webapp.checks.models import Flag
from webapp.gates.models import Passage, Visit
from webapp.listings.models import Listing
from webapp.review import register
from webapp.review.models import AuditEntry
from webapp.review.plates import PlateKey
from webapp.review.selectors.queue import QUEUE_ORDER
from webapp.review.selectors.search import Source, plate_search

# A plate on more than this many photos is a fleet or a data problem; the page shows the newest.
HISTORY_HITS_LIMIT = 200
DECISIONS_LIMIT = 200


@dataclass(frozen=True)
class ListingRow:
    listing: Listing
    declared: bool  # the seller declared this plate
    photos_read: int  # photos of the listing on which the plate was read


@dataclass
class PlateHistory:
    plate: str
    key: str
    listings: list[ListingRow]
    readings: list[Reading]
    register_current: register.Record | None
    register_history: list[register.Record]
    flags: list[Flag]
    decisions: list[AuditEntry]
    passages: list[Passage]
    stays: list[Visit]  # the stays on sites those passages began or ended
    watched: list[WatchEntry]  # the watch list's entries for this plate
    register_age: RegisterAge | None = None  # when the register was last imported


def plate_history(*, plate: str) -> PlateHistory:
    """Raises search.SearchError for a text that is no plate (too short or too long)."""
    found = plate_search(q=plate, limit=HISTORY_HITS_LIMIT)
    same = [h for h in found.hits if h.distance == 0]
    reading_ids = [h.reading_id for h in same if h.reading_id]
    readings = list(
        Reading.objects.filter(pk__in=reading_ids)
        .select_related("photo__listing", "created_by")
        .order_by("-created_at", "-id")
    )
    declared_ids = {h.listing_id for h in same if h.source == Source.DECLARED}
    photos_read: dict[int, set[int]] = {}
    for reading in readings:
        photos_read.setdefault(reading.photo.listing_id, set()).add(reading.photo_id)
    listing_ids = declared_ids | set(photos_read)
    listings = [
        ListingRow(listing, listing.pk in declared_ids, len(photos_read.get(listing.pk, ())))
        for listing in Listing.objects.filter(pk__in=listing_ids).order_by("-created_at", "-id")
    ]
    flags = list(
        Flag.objects.alias(plate_key=PlateKey("plate_text"))
        .filter(Q(listing_id__in=listing_ids) | Q(plate_key=found.key))
        .select_related("listing", "reviewer")
        .defer("evidence")
        .order_by(*QUEUE_ORDER)
    )
    decisions = list(
        AuditEntry.objects.filter(flag_ref__in=[f.pk for f in flags])
        .select_related("user")
        .order_by("-created_at", "-id")[:DECISIONS_LIMIT]
    )
    passages = list(
        Passage.objects.filter(pk__in=[h.passage_id for h in same if h.passage_id])
        .select_related("gate", "device")
        .order_by("-last_frame_at", "-id")
    )
    passage_ids = [p.pk for p in passages]
    stays = list(
        Visit.objects.filter(Q(entry_passage__in=passage_ids) | Q(exit_passage__in=passage_ids))
        .select_related("site")
        .order_by(F("entered_at").desc(nulls_last=True), "-id")
    )
    register_plate = next((h.text for h in same if h.source == Source.REGISTER), found.query)
    current, history = register.records_for_plate(plate_text=register_plate)
    return PlateHistory(
        plate=found.query,
        key=found.key,
        listings=listings,
        readings=readings,
        register_current=current,
        register_history=history,
        flags=flags,
        decisions=decisions,
        passages=passages,
        stays=stays,
        watched=list(WatchEntry.objects.filter(plate=normalise_plate(found.query))),
        register_age=register_age(),
    )
