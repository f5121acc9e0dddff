"""Reads for the queue page: filtered, counted and paged flags, and a flag's neighbours.

Every selector issues a fixed number of queries whatever the page size (tests assert it), so
the queue stays fast with 100,000 open flags.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from webapp.checks.models import Flag
from webapp.filters import days_filter
from webapp.listings.models import ListingEdit
from webapp.paging import page_bounds
from webapp.review.holds import held_by_others
from webapp.review.plates import PlateKey, plate_key

logger = logging.getLogger(__name__)

# 50 rows fill a laptop screen twice; more rows only slow the first paint.
QUEUE_PAGE_SIZE = 50
# Flags created by the cross-check show up in the sidebar counts (not the rows) this much later.
COUNTS_CACHE_SECONDS = 15
COUNTS_GENERATION_KEY = "review:counts:generation"
# Order of the queue: most severe first, then oldest first; id breaks ties so pages are stable.
QUEUE_ORDER = ("-severity", "created_at", "id")
# Sortable columns: the name in the query string -> the field; "-name" sorts descending.
SORTS = {
    "severity": "severity",
    "kind": "kind",
    "plate": "plate_text",
    "format": "plate_format",
    "listing": "listing__marketplace_id",
    "opened": "created_at",
    "status": "status",
}


@dataclass(frozen=True)
class QueueFilters:
    status: str = Flag.Status.OPEN
    kind: str = ""
    severity: int | None = None
    plate_format: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    plate: str = ""
    edited: bool = False  # only flags whose listing the seller changed after the flag was raised
    sort: str = ""  # a key of SORTS, "-" first for descending; "" is QUEUE_ORDER

    def order(self) -> tuple[str, ...]:
        """ORDER BY for the rows: the chosen column, then id so pages are stable."""
        field = SORTS.get(self.sort.lstrip("-"))
        if not field:
            return QUEUE_ORDER
        desc = self.sort.startswith("-")
        return (f"-{field}" if desc else field, "-id" if desc else "id")


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


def _filtered(filters: QueueFilters, *, with_kind: bool, with_format: bool) -> QuerySet[Flag]:
    qs = Flag.objects.all()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    # Bounds as timestamps, so the (status, severity, created_at) index can serve them.
    qs = days_filter(qs, "created_at", filters.date_from, filters.date_to)
    key = plate_key(filters.plate)
    if key:
        qs = qs.alias(plate_key=PlateKey("plate_text")).filter(plate_key__startswith=key)
    if with_kind and filters.kind:
        qs = qs.filter(kind=filters.kind)
    if with_format and filters.plate_format:
        qs = qs.filter(plate_format=filters.plate_format)
    if filters.edited:
        qs = qs.filter(Exists(_edits_since_flag()))
    return qs


def _counts_key(filters: QueueFilters) -> str:
    generation = cache.get_or_set(COUNTS_GENERATION_KEY, 0, timeout=None)
    basis = (filters.status, filters.severity, filters.date_from, filters.date_to, filters.edited)
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

    bounds = page_bounds(total=total, page=page, per_page=per_page)
    number, num_pages = bounds.number, bounds.num_pages
    rows = list(
        _filtered(filters, with_kind=True, with_format=True)
        .select_related("listing", "reviewer")
        .defer("evidence")
        .annotate(edited_since=Exists(_edits_since_flag()))
        .order_by(*filters.order())[bounds.start : bounds.stop]
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


def _edits_since_flag() -> QuerySet[ListingEdit]:
    """The seller's edits of a flag's listing after the flag was raised: a seller editing a
    flagged listing (into another car, say) is worth a moderator's look (the row's mark)."""
    return ListingEdit.objects.filter(
        listing=OuterRef("listing_id"), edited_at__gt=OuterRef("created_at")
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


def _not_held(qs: QuerySet[Flag], user: AbstractBaseUser | None) -> QuerySet[Flag]:
    """Without the flags another moderator has open (``webapp.review.holds``)."""
    return qs if user is None else qs.exclude(held_by_others(user))


def flag_neighbours(
    *, flag: Flag, filters: QueueFilters, user: AbstractBaseUser | None = None
) -> tuple[int | None, int | None]:
    """Ids of the previous and next flag in queue order under the same filters (j / k),
    passing by the flags other moderators than ``user`` have open.

    Two index range scans per direction instead of one OR-ed condition, which PostgreSQL
    cannot serve from the (status, severity, created_at) index.
    """
    qs = _not_held(_filtered(filters, with_kind=True, with_format=True).order_by(), user)
    if filters.order() != QUEUE_ORDER:
        return _sorted_neighbours(qs, flag=flag, filters=filters)
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


def _sorted_neighbours(
    qs: QuerySet[Flag], *, flag: Flag, filters: QueueFilters
) -> tuple[int | None, int | None]:
    """Neighbours under a column sort: keyset on (column, id), both directions."""
    field = SORTS[filters.sort.lstrip("-")]
    value = Flag.objects.filter(pk=flag.pk).values_list(field, flat=True).first()
    after = Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": flag.pk})
    before = Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": flag.pk})
    if filters.sort.startswith("-"):
        after, before = before, after
    forward = filters.order()
    backward = tuple(o[1:] if o.startswith("-") else f"-{o}" for o in forward)
    return _first_id(qs.filter(before), *backward), _first_id(qs.filter(after), *forward)


def flag_ids_matching(
    *, filters: QueueFilters, limit: int, user: AbstractBaseUser | None = None
) -> list[tuple[int, int]]:
    """(id, version) of every flag the filters match, in queue order, at most ``limit``;
    without the flags other moderators than ``user`` have open."""
    qs = _filtered(filters, with_kind=True, with_format=True).order_by(*filters.order())
    return list(_not_held(qs, user).values_list("id", "version")[:limit])


def flag_count_matching(*, filters: QueueFilters, user: AbstractBaseUser | None = None) -> int:
    """The flags the filters match (without those other moderators than ``user`` have open)."""
    return _not_held(_filtered(filters, with_kind=True, with_format=True), user).count()


def _first_id(qs: QuerySet[Flag], *order: str) -> int | None:
    return qs.order_by(*order).values_list("id", flat=True).first()
