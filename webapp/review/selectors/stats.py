"""Reads for the dashboard: daily flag counts, time to decision, false-alarm rates and each
moderator's decisions."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from webapp.checks.models import Flag
from webapp.db_functions import EpochSeconds
from webapp.filters import day_start
from webapp.listings.models import Photo
from webapp.review.models import AuditEntry


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
class ModeratorRow:
    """One moderator's decisions in the window: how many, how many dismissed or made in bulk,
    and the median time they had a flag open before deciding it on its page."""

    name: str
    decided: int
    dismissed: int
    bulk: int
    median_seconds: float | None

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
    by_moderator: list[ModeratorRow]


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


def _median_wait_by_day(decided: QuerySet[Flag]) -> dict[dt.date, float]:
    """Median seconds from opening to decision, per decision day.

    PostgreSQL computes it (percentile_cont); SQLite, the demo's database, has no percentile
    or EXTRACT, so there the window's (day, wait) pairs are read and the medians taken here.
    """
    if connection.vendor == "postgresql":
        wait = EpochSeconds(
            ExpressionWrapper(F("reviewed_at") - F("created_at"), output_field=DurationField())
        )
        return dict(
            decided.annotate(day=TruncDate("reviewed_at"))
            .values_list("day")
            .annotate(s=_Median(wait))
            .order_by()
        )
    waits: dict[dt.date, list[float]] = {}
    for created, reviewed in decided.values_list("created_at", "reviewed_at").iterator():
        day = timezone.localdate(reviewed)
        waits.setdefault(day, []).append((reviewed - created).total_seconds())
    return {day: statistics.median(values) for day, values in waits.items()}


def _moderators(since: dt.datetime) -> list[ModeratorRow]:
    """Decisions per moderator since ``since`` (the audit log's: a decision later overturned
    still counts for whoever made it), most first."""
    decisions = AuditEntry.objects.filter(
        created_at__gte=since, action__in=(AuditEntry.Action.CONFIRM, AuditEntry.Action.DISMISS)
    )
    rows = (
        decisions.values_list("user__username")
        .annotate(
            n=Count("id"),
            d=Count("id", filter=Q(action=AuditEntry.Action.DISMISS)),
            b=Count("id", filter=Q(bulk=True)),
        )
        .order_by()
    )
    timed = decisions.filter(seconds_open__isnull=False)
    if connection.vendor == "postgresql":
        medians = dict(
            timed.values_list("user__username").annotate(m=_Median("seconds_open")).order_by()
        )
    else:  # SQLite (the demo) has no percentile: the window's times are read and taken here
        times: dict[str | None, list[int]] = {}
        for name, seconds in timed.values_list("user__username", "seconds_open").iterator():
            times.setdefault(name, []).append(seconds)
        medians = {name: statistics.median(values) for name, values in times.items()}
    out = [ModeratorRow(name or "—", n, d, b, medians.get(name)) for name, n, d, b in rows]
    return sorted(out, key=lambda r: (-r.decided, r.name))


def _rates(rows: Sequence[tuple[str, int, int]], labels: dict[str, str]) -> list[RateRow]:
    out = [RateRow(labels.get(key, key), total, dis) for key, total, dis in rows]
    return sorted(out, key=lambda r: (-r.rate, r.label))


def dashboard_stats(*, days: int = 30, today: dt.date | None = None) -> DashboardStats:
    """Daily opened/closed counts, time to decision and false-alarm rates over ``days`` days."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    since = day_start(first)
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
    by_day_median = _median_wait_by_day(decided)

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
        by_kind=_rates(kind_rows, {k: str(v) for k, v in Flag.Kind.choices}),
        by_model=_rates(model_rows, {}),
        by_moderator=_moderators(since),
    )
