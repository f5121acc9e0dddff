"""Reads for the review pages: the queue, one flag's detail, and the dashboard figures.

Every selector issues a fixed number of queries whatever the page size (tests assert it), so
the queue stays fast with 100,000 open flags.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from recognition.models import Reading
from recognition.pipeline.regions import normalise_plate
from registry import normalise
from webapp.listings.models import Flag, Listing, Photo
from webapp.review import register
from webapp.review.models import AuditEntry
from webapp.review.plates import PlateKey, plate_key

logger = logging.getLogger(__name__)

# 50 rows fill a laptop screen twice; more rows only slow the first paint.
QUEUE_PAGE_SIZE = 50
# A plate seen on more listings than this is a data problem, not something to scroll through.
OTHER_LISTINGS_LIMIT = 20
AUDIT_LIMIT = 100
# Flags created by the cross-check show up in the sidebar counts (not the rows) this much later.
COUNTS_CACHE_SECONDS = 15
COUNTS_GENERATION_KEY = "review:counts:generation"
# Order of the queue: most severe first, then oldest first; id breaks ties so pages are stable.
QUEUE_ORDER = ("-severity", "created_at", "id")


@dataclass(frozen=True)
class QueueFilters:
    status: str = Flag.Status.OPEN
    kind: str = ""
    severity: int | None = None
    plate_format: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    plate: str = ""


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int


@dataclass(frozen=True)
class QueuePage:
    flags: list[Flag]
    number: int
    num_pages: int
    total: int
    kind_counts: list[KindCount]
    formats: list[tuple[str, int]]

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _filtered(filters: QueueFilters, *, with_kind: bool, with_format: bool) -> QuerySet[Flag]:
    qs = Flag.objects.all()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    # Bounds as timestamps (not created_at::date) so the (status, severity, created_at) index
    # can serve them.
    if filters.date_from:
        qs = qs.filter(created_at__gte=_start_of_day(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_start_of_day(filters.date_to + dt.timedelta(days=1)))
    key = plate_key(filters.plate)
    if key:
        qs = qs.alias(plate_key=PlateKey("plate_text")).filter(plate_key__startswith=key)
    if with_kind and filters.kind:
        qs = qs.filter(kind=filters.kind)
    if with_format and filters.plate_format:
        qs = qs.filter(plate_format=filters.plate_format)
    return qs


def _counts_key(filters: QueueFilters) -> str:
    generation = cache.get_or_set(COUNTS_GENERATION_KEY, 0, timeout=None)
    basis = (filters.status, filters.severity, filters.date_from, filters.date_to)
    raw = repr((*basis, plate_key(filters.plate), generation))
    return "review:counts:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def _queue_counts(filters: QueueFilters) -> list[tuple[str, str, int]]:
    """(kind, plate_format, n) groups, cached briefly: aggregating 100,000 open flags on every
    page view costs more than the rest of the page, and the sidebar may lag a few seconds."""
    key = _counts_key(filters)
    groups = cache.get(key)
    if groups is None:
        groups = list(
            _filtered(filters, with_kind=False, with_format=False)
            .values_list("kind", "plate_format")
            # COUNT(*), not COUNT(id): the counts index then answers without touching the table.
            .annotate(n=Count("*"))
            .order_by()
        )
        cache.set(key, groups, timeout=COUNTS_CACHE_SECONDS)
    return groups


def queue_counts_invalidate() -> None:
    """Called after a moderator's decision, so their own queue counts are right at once."""
    try:
        cache.incr(COUNTS_GENERATION_KEY)
    except ValueError:
        cache.set(COUNTS_GENERATION_KEY, 1, timeout=None)


def flag_queue(
    *, filters: QueueFilters, page: int = 1, per_page: int = QUEUE_PAGE_SIZE
) -> QueuePage:
    """One page of flags plus per-kind and per-format counts: two queries at most.

    The counts come from one GROUP BY over (kind, plate_format) without those two filters,
    which also yields the total, so there is no separate COUNT(*).
    """
    groups = _queue_counts(filters)
    by_kind: Counter[str] = Counter()
    by_format: Counter[str] = Counter()
    total = 0
    for kind, plate_format, n in groups:
        if not filters.plate_format or plate_format == filters.plate_format:
            by_kind[kind] += n
        if not filters.kind or kind == filters.kind:
            by_format[plate_format] += n
            if not filters.plate_format or plate_format == filters.plate_format:
                total += n
    kind_counts = [
        KindCount(value, str(label), by_kind.get(value, 0)) for value, label in Flag.Kind.choices
    ]
    formats = sorted((name, n) for name, n in by_format.items() if name)

    num_pages = max(1, -(-total // per_page))
    number = min(max(1, page), num_pages)
    offset = (number - 1) * per_page
    rows = list(
        _filtered(filters, with_kind=True, with_format=True)
        .select_related("listing", "reviewer")
        .defer("evidence")
        .order_by(*QUEUE_ORDER)[offset : offset + per_page]
    )
    _label(rows)
    return QueuePage(
        flags=rows,
        number=number,
        num_pages=num_pages,
        total=total,
        kind_counts=kind_counts,
        formats=formats,
    )


def _label(flags: Sequence[Flag]) -> None:
    """Attach display labels as plain strings: resolving 150 lazy translations per page through
    get_FOO_display costs more than the rows' query."""
    kinds = {value: str(label) for value, label in Flag.Kind.choices}
    severities = {value: str(label) for value, label in Flag.Severity.choices}
    statuses = {value: str(label) for value, label in Flag.Status.choices}
    for flag in flags:
        flag.kind_label = kinds.get(flag.kind, flag.kind)
        flag.severity_label = severities.get(flag.severity, str(flag.severity))
        flag.status_label = statuses.get(flag.status, flag.status)


def flag_neighbours(*, flag: Flag, filters: QueueFilters) -> tuple[int | None, int | None]:
    """Ids of the previous and next flag in queue order under the same filters (j / k).

    Two index range scans per direction instead of one OR-ed condition, which PostgreSQL
    cannot serve from the (status, severity, created_at) index.
    """
    qs = _filtered(filters, with_kind=True, with_format=True).order_by()
    sev, created, pk = flag.severity, flag.created_at, flag.pk
    same = qs.filter(severity=sev)
    # The plain bound on created_at gives the index scan its start; the OR breaks exact ties.
    later = Q(created_at__gte=created) & (Q(created_at__gt=created) | Q(id__gt=pk))
    earlier = Q(created_at__lte=created) & (Q(created_at__lt=created) | Q(id__lt=pk))
    nxt = _first_id(same.filter(later), "created_at", "id") or _first_id(
        qs.filter(severity__lt=sev), *QUEUE_ORDER
    )
    prev = _first_id(same.filter(earlier), "-created_at", "-id") or _first_id(
        qs.filter(severity__gt=sev), "severity", "-created_at", "-id"
    )
    return prev, nxt


def _first_id(qs: QuerySet[Flag], *order: str) -> int | None:
    return qs.order_by(*order).values_list("id", flat=True).first()


@dataclass
class ReadingView:
    reading: Reading
    # "x1,y1 x2,y2 ..." in photo pixels, for an SVG <polygon> over a viewBox of the photo size.
    points: str
    label_x: float
    label_y: float
    current: bool


@dataclass
class PhotoView:
    photo: Photo
    readings: list[ReadingView] = field(default_factory=list)


@dataclass(frozen=True)
class CompareRow:
    label: str
    declared: str
    register: str
    photos: str
    differs: bool


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


def _reading_views(photo: Photo) -> list[ReadingView]:
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
        views.append(ReadingView(reading, points, label_x, label_y, current=not views))
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
    rows = [
        ("Plate", listing.declared_plate, rec.plate, ", ".join(plates)),
        ("Make", listing.declared_make, rec.make, ""),
        ("Model", listing.declared_model, rec.model, ""),
        ("Colour", listing.declared_colour, rec.colour, ""),
        ("Year", listing.declared_year or "", rec.year or "", ""),
        ("VIN", listing.declared_vin, rec.vin, ""),
    ]
    # Make, model and colour differ only as the cross-check sees it: `MB` is MERCEDES-BENZ,
    # `IS250` is `IS 250` and grey is СІРИЙ.
    semantic = {
        "Make": lambda d, r: normalise.compare_make(d, r),
        "Model": lambda d, r: normalise.compare_model(d, r, listing.declared_make),
        "Colour": lambda d, r: normalise.compare_colour(d, r),
    }
    out = []
    for label, declared, registered, photos in rows:
        if label == "Plate":
            values = {normalise_plate(str(v)) for v in (declared, registered, *plates) if _norm(v)}
            differs = len(values) > 1
        elif label in semantic:
            differs = semantic[label](str(declared), str(registered)) == normalise.Match.MISMATCH
        else:
            differs = len({_norm(v) for v in (declared, registered) if _norm(v)}) > 1
        out.append(CompareRow(label, str(declared or ""), str(registered or ""), photos, differs))
    return out


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
    photo_views = [PhotoView(p, _reading_views(p)) for p in photos]
    plates = _plates_seen(photo_views)
    lookup_plate = flag.plate_text or (plates[0] if plates else "") or listing.declared_plate
    current, history = register.records_for_plate(plate_text=lookup_plate)

    other_listings: list[Listing] = []
    if plates:
        other_listings = list(
            Listing.objects.filter(photos__readings__plate_text__in=plates)
            .exclude(pk=listing.pk)
            .distinct()
            .order_by("-created_at", "-id")[:OTHER_LISTINGS_LIMIT]
        )
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
    )


def reading_for_crop(*, reading_id: int) -> Reading:
    return Reading.objects.select_related("photo").get(pk=reading_id)


# --- dashboard -------------------------------------------------------------------------------


class _Epoch(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class _Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class RateRow:
    label: str
    decided: int
    dismissed: int

    @property
    def rate(self) -> float:
        return self.dismissed / self.decided if self.decided else 0.0


@dataclass(frozen=True)
class DashboardStats:
    days: list[dt.date]
    opened: list[int]
    confirmed: list[int]
    dismissed: list[int]
    median_hours: list[float | None]
    open_now: int
    by_kind: list[RateRow]
    by_model: list[RateRow]


def _model_version() -> Coalesce:
    """The engine version behind a flag: what the cross-check recorded in the evidence, else
    the newest version that read a photo of the listing."""
    latest = (
        Photo.objects.filter(listing_id=OuterRef("listing_id"))
        .exclude(model_version="")
        .order_by("-processed_at", "-id")
        .values("model_version")[:1]
    )
    return Coalesce(
        NullIf(KeyTextTransform("model_version", "evidence"), Value("")),
        Subquery(latest),
        Value("unknown"),
        output_field=CharField(),
    )


def dashboard_stats(*, days: int = 30, today: dt.date | None = None) -> DashboardStats:
    """Daily opened/closed counts, time to decision and false-alarm rates over ``days`` days."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    since = _start_of_day(first)
    calendar = [first + dt.timedelta(days=i) for i in range(days)]
    decided = Flag.objects.filter(
        status__in=(Flag.Status.CONFIRMED, Flag.Status.DISMISSED), reviewed_at__gte=since
    )

    opened = dict(
        Flag.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    closed: dict[tuple[dt.date, str], int] = {
        (day, status): n
        for day, status, n in decided.annotate(day=TruncDate("reviewed_at"))
        .values_list("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    wait = _Epoch(
        ExpressionWrapper(F("reviewed_at") - F("created_at"), output_field=DurationField())
    )
    by_day_median = dict(
        decided.annotate(day=TruncDate("reviewed_at"))
        .values_list("day")
        .annotate(s=_Median(wait))
        .order_by()
    )

    def rates(rows: Sequence[tuple[str, int, int]], labels: dict[str, str]) -> list[RateRow]:
        out = [RateRow(labels.get(key, key), total, dis) for key, total, dis in rows]
        return sorted(out, key=lambda r: (-r.rate, r.label))

    dismissed_count = Count("id", filter=Q(status=Flag.Status.DISMISSED))
    kind_rows = list(
        decided.values_list("kind").annotate(n=Count("id"), d=dismissed_count).order_by()
    )
    model_rows = list(
        decided.annotate(mv=_model_version())
        .values_list("mv")
        .annotate(n=Count("id"), d=dismissed_count)
        .order_by()
    )
    return DashboardStats(
        days=calendar,
        opened=[opened.get(d, 0) for d in calendar],
        confirmed=[closed.get((d, Flag.Status.CONFIRMED), 0) for d in calendar],
        dismissed=[closed.get((d, Flag.Status.DISMISSED), 0) for d in calendar],
        median_hours=[
            by_day_median[d] / 3600 if by_day_median.get(d) is not None else None for d in calendar
        ],
        open_now=Flag.objects.filter(status=Flag.Status.OPEN).count(),
        by_kind=rates(kind_rows, {k: str(v) for k, v in Flag.Kind.choices}),
        by_model=rates(model_rows, {}),
    )
