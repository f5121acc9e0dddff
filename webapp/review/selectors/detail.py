"""Reads for one flag's page: photos with their readings, the register, related rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.translation import gettext_noop

from recognition.models import Reading
from recognition.pipeline.regions import normalise_plate
from recognition.redaction import NotRedactable, photo_redactable
from recognition.selectors import CharacterRead, characters_read
from registry import normalise
from registry.selectors import RegisterAge, register_age
from webapp.checks.facts import other_listings_for_plates, plate_keys
from webapp.checks.models import Flag
from webapp.listings.models import Listing, ListingEdit, Photo
from webapp.review import register
from webapp.review.models import AuditEntry
from webapp.review.selectors.queue import QUEUE_ORDER

AUDIT_LIMIT = 100
# A listing's latest edits shown (a seller editing it over and over is itself the signal).
EDITS_LIMIT = 20
# Each declared field's label: the compare table's (the template translates them).
DECLARED_LABELS = {
    "declared_plate": gettext_noop("Plate"),
    "declared_make": gettext_noop("Make"),
    "declared_model": gettext_noop("Model"),
    "declared_colour": gettext_noop("Colour"),
    "declared_year": gettext_noop("Year"),
    "declared_vin": gettext_noop("VIN"),
}
# A seller's edit shows each declared field it changed, and the photos it added or took off.
EDIT_LABELS = {
    **DECLARED_LABELS,
    "photo_added": gettext_noop("Photos added"),
    "photo_removed": gettext_noop("Photo removed"),
}


@dataclass
class ReadingView:
    reading: Reading
    # "x1,y1 x2,y2 ..." in photo pixels, for an SVG <polygon> over a viewBox of the photo size.
    points: str
    label_x: float
    label_y: float
    current: bool
    characters: list[CharacterRead] = field(default_factory=list)
    # The declared plate, where the reading differs from it only in characters the engine
    # doubted: most likely a misreading of the declared plate, not another car's.
    misread_of: str = ""


@dataclass
class PhotoView:
    photo: Photo
    readings: list[ReadingView] = field(default_factory=list)

    @property
    def redactable(self) -> bool:
        """The photo has a copy fit to publish (`recognition.redaction`'s rule)."""
        try:
            photo_redactable(self.photo)
        except NotRedactable:
            return False
        return True

    @property
    def unread_areas(self) -> list[str]:
        """The polygon points of each place a plate may be that nothing was read on (hidden in
        the copy fit to publish all the same)."""
        return [
            " ".join(f"{float(x):.1f},{float(y):.1f}" for x, y in area["corners"][:4])
            for area in self.photo.plate_areas or []
            if not area.get("read") and area.get("corners")
        ]


@dataclass(frozen=True)
class CompareRow:
    label: str
    declared: str
    register: str
    photos: str
    differs: bool
    # The register's value in the moderator's language (colours, vehicle kinds), "" if none.
    register_translated: str = ""


@dataclass(frozen=True)
class EditView:
    """One change of what the seller declares: when, by whom, each field before and after."""

    edit: ListingEdit
    rows: list[tuple[str, str, str]]  # (label, before, after), in the compare table's order


@dataclass
class FlagDetail:
    flag: Flag
    photos: list[PhotoView]
    plates_seen: list[str]
    register_current: register.Record | None
    register_history: list[register.Record]
    compare: list[CompareRow]
    other_listings: list[Listing]
    other_flags: list[Flag]
    audit: list[AuditEntry]
    # A vin_deregistered flag's removal: when and how the declared car left the register.
    vin_removal: register.VinRemoval | None = None
    register_age: RegisterAge | None = None  # when the register was last imported
    edits: list[EditView] = field(default_factory=list)  # the seller's changes, newest first

    @property
    def suggested_plate(self) -> str:
        """The correction form's plate: the declared one where the first photo's reading is most
        likely a misreading of it (the form's photo is the first), else the plate read."""
        first = self.photos[0].readings[:1] if self.photos else []
        misread = first[0].misread_of if first else ""
        return misread or (self.plates_seen[0] if self.plates_seen else "")


def misread_of(characters: Sequence[CharacterRead], declared: str) -> str:
    """`declared` (normalised) if the reading differs from it, and only where it is unsure."""
    plate = normalise_plate(declared)
    if len(plate) != len(characters):
        return ""
    differ = [c for c, d in zip(characters, plate, strict=True) if c.char != d]
    return plate if differ and all(c.unsure for c in differ) else ""


def _reading_views(photo: Photo, *, declared_plate: str = "") -> list[ReadingView]:
    """Human readings and the readings of the photo's current model version, newest first.

    Older model versions' readings stay in the database for comparisons but would only
    clutter the moderator's view.
    """
    readings: list[Reading] = list(photo.readings.all())
    current_version = photo.model_version or next(
        (r.model_version for r in readings if r.source == Reading.Source.ENGINE), ""
    )
    views = []
    for reading in readings:
        if reading.source != Reading.Source.HUMAN and reading.model_version != current_version:
            continue
        corners = [(float(x), float(y)) for x, y in (reading.corners or [])][:4]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
        label_x = min((x for x, _ in corners), default=0.0)
        label_y = max(0.0, min((y for _, y in corners), default=0.0) - 8)
        characters = characters_read(
            text=reading.plate_text,
            confidences=reading.char_confidences or [],
        )  # the unsure ones marked: a hint to look twice at the photo (8 or B?), not a verdict
        views.append(
            ReadingView(
                reading, points, label_x, label_y, not views, characters,
                misread_of=misread_of(characters, declared_plate),
            )
        )  # fmt: skip
    return views


def _plates_seen(photos: Sequence[PhotoView]) -> list[str]:
    # A human correction overrides what the engine read on the same photo.
    seen: dict[str, None] = {}
    for view in photos:
        human = [r for r in view.readings if r.reading.source == Reading.Source.HUMAN]
        for rv in human[:1] or view.readings:
            if rv.reading.plate_text:
                seen[rv.reading.plate_text] = None
    return list(seen)


def _norm(value: object) -> str:
    return "".join(str(value or "").split()).casefold()


def _compare(
    listing: Listing, record: register.Record | None, plates: list[str]
) -> list[CompareRow]:
    rec = record or register.Record()
    # The labels stay English (the rows' keys); the template translates them for display.
    rows = [
        (gettext_noop("Plate"), listing.declared_plate, rec.plate, ", ".join(plates)),
        (gettext_noop("Make"), listing.declared_make, rec.make, ""),
        (gettext_noop("Model"), listing.declared_model, rec.model, ""),
        (gettext_noop("Colour"), listing.declared_colour, rec.colour, ""),
        (gettext_noop("Year"), listing.declared_year or "", rec.year or "", ""),
        (gettext_noop("VIN"), listing.declared_vin, rec.vin, ""),
    ]
    # Make, model and colour differ only as the cross-check sees it: `MB` is MERCEDES-BENZ,
    # `IS250` is `IS 250` and grey is СІРИЙ.
    semantic = {
        "Make": lambda d, r: normalise.compare_make(d, r),
        "Model": lambda d, r: normalise.compare_model(d, r, listing.declared_make),
        "Colour": lambda d, r: normalise.compare_colour(d, r),
    }
    translated = {"Colour": rec.colour_label}
    out = []
    for label, declared, registered, photos in rows:
        if label == "Plate":
            values = {normalise_plate(str(v)) for v in (declared, registered, *plates) if _norm(v)}
            differs = len(values) > 1
        elif rec.deregistered:
            differs = False  # the car the plate left: history, not what the listing must match
        elif label in semantic:
            differs = semantic[label](str(declared), str(registered)) == normalise.Match.MISMATCH
        else:
            differs = len({_norm(v) for v in (declared, registered) if _norm(v)}) > 1
        out.append(
            CompareRow(
                label,
                str(declared or ""),
                str(registered or ""),
                photos,
                differs,
                translated.get(label, ""),
            )
        )
    if rec.kind:
        out.append(CompareRow(gettext_noop("Kind"), "", rec.kind, "", False, rec.kind_label))
    return out


def _other_listings(listing: Listing, photos: Sequence[Photo]) -> list[Listing]:
    """The same query as the flag's evidence (webapp.checks.facts), so the two never disagree.

    Every reading of every photo counts there, not only the shown ones (already prefetched).
    """
    texts = [r.plate_text for p in photos for r in p.readings.all()]
    keys = plate_keys(readings=texts, declared=listing.declared_plate)
    others = other_listings_for_plates(listing_id=listing.pk, plates=keys)
    if not others:
        return []
    # The listing's most pressing flag, so the moderator can open it from here.
    first_flag = (
        Flag.objects.filter(listing_id=OuterRef("pk"))
        .order_by("-status", *QUEUE_ORDER)  # open > dismissed > confirmed
        .values("pk")[:1]
    )
    return list(
        Listing.objects.filter(pk__in={other.listing_id for other in others})
        .annotate(first_flag_id=Subquery(first_flag))
        .order_by("-created_at", "-id")
    )


def flag_detail(*, flag_id: int) -> FlagDetail:
    """Everything the flag page shows; raises Flag.DoesNotExist."""
    flag = Flag.objects.select_related("listing", "reviewer").get(pk=flag_id)
    listing = flag.listing
    readings = Reading.objects.select_related("created_by").order_by("-created_at", "-id")
    photos = list(
        Photo.objects.filter(listing=listing)
        .prefetch_related(Prefetch("readings", queryset=readings))
        .order_by("id")
    )
    photo_views = [
        PhotoView(p, _reading_views(p, declared_plate=listing.declared_plate)) for p in photos
    ]
    plates = _plates_seen(photo_views)
    lookup_plate = flag.plate_text or (plates[0] if plates else "") or listing.declared_plate
    current, history = register.records_for_plate(plate_text=lookup_plate)

    other_listings = _other_listings(listing, photos)
    other_flags = list(
        Flag.objects.filter(listing=listing)
        .exclude(pk=flag.pk)
        .defer("evidence")
        .order_by(*QUEUE_ORDER)
    )
    audit = list(
        AuditEntry.objects.filter(flag_ref=flag.pk)
        .select_related("user")
        .order_by("-created_at", "-id")[:AUDIT_LIMIT]
    )
    return FlagDetail(
        flag=flag,
        photos=photo_views,
        plates_seen=plates,
        register_current=current,
        register_history=history,
        compare=_compare(listing, current, plates),
        other_listings=other_listings,
        other_flags=other_flags,
        audit=audit,
        register_age=register_age(),
        edits=_edits(listing),
        vin_removal=(
            register.vin_removal(evidence=flag.evidence)
            if flag.kind == Flag.Kind.VIN_DEREGISTERED
            else None
        ),
    )


def _edits(listing: Listing) -> list[EditView]:
    edits = ListingEdit.objects.filter(listing=listing).select_related("by")[:EDITS_LIMIT]
    return [
        EditView(
            edit,
            [
                (label, _text(edit.changes[name][0]), _text(edit.changes[name][1]))
                for name, label in EDIT_LABELS.items()
                if name in edit.changes
            ],
        )
        for edit in edits
    ]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def reading_for_crop(*, reading_id: int) -> Reading:
    return Reading.objects.select_related("photo").get(pk=reading_id)
