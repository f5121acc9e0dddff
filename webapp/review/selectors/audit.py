"""Reads for the moderators' audit log page and its CSV export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from registry.spreadsheet import spreadsheet_safe
from webapp.filters import days_filter
from webapp.paging import page_bounds
from webapp.review.models import MODERATORS_GROUP, AuditEntry

AUDIT_PAGE_SIZE = 100
CSV_COLUMNS = (
    "when",
    "moderator",
    "action",
    "bulk",
    "flag",
    "listing",
    "status_before",
    "status_after",
    "plate_after",
    "reason",
)


@dataclass(frozen=True)
class AuditFilters:
    user_id: int | None = None
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    number: int
    num_pages: int
    total: int


def _filtered(filters: AuditFilters) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if filters.user_id:
        qs = qs.filter(user_id=filters.user_id)
    if filters.action:
        qs = qs.filter(action=filters.action)
    qs = days_filter(qs, "created_at", filters.date_from, filters.date_to)
    return qs.order_by("-created_at", "-id")


def audit_log(*, filters: AuditFilters, page: int = 1) -> AuditPage:
    qs = _filtered(filters)
    total = qs.count()
    bounds = page_bounds(total=total, page=page, per_page=AUDIT_PAGE_SIZE)
    entries = list(qs.select_related("user", "listing")[bounds.start : bounds.stop])
    return AuditPage(entries=entries, number=bounds.number, num_pages=bounds.num_pages, total=total)


def audit_csv_rows(*, filters: AuditFilters) -> Iterator[tuple[str, ...]]:
    """Every matching entry, oldest last, streamed in chunks (no page limit)."""
    yield CSV_COLUMNS
    qs = _filtered(filters).select_related("user", "listing")
    for e in qs.iterator(chunk_size=2000):
        # A partner names its listings and moderators type reasons: either may start a formula.
        yield tuple(str(spreadsheet_safe(value)) for value in _csv_row(e))


def _csv_row(e: AuditEntry) -> tuple[str, ...]:
    return (
        e.created_at.isoformat(),
        e.user.get_username() if e.user else "",
        e.action,
        "yes" if e.bulk else "",
        str(e.flag_ref),
        e.listing.marketplace_id if e.listing else "",
        str(e.before.get("status", "")),
        str(e.after.get("status", "")),
        str(e.after.get("plate_text", "")),
        e.reason,
    )


def moderator_choices() -> list[tuple[int, str]]:
    users = (
        get_user_model()
        .objects.filter(groups__name=MODERATORS_GROUP)
        .order_by("username")
        .values_list("pk", "username")
    )
    return list(users)
