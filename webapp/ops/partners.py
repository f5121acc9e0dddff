"""Reads for the partners page (`/ops/partners/`): each partner's month of photos against its
quota, its tokens and its webhook endpoints, and every partner's photos a day.

Partners are the `partners` group's members and anyone else who used the API that month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from webapp.listings.partners import PARTNERS_GROUP
from webapp.partners.models import (
    PartnerToken,
    UsageKind,
    WebhookDelivery,
    WebhookEndpoint,
)
from webapp.partners.usage import month_days, month_next, month_of, monthly_limits


@dataclass
class PartnerRow:
    user_id: int
    name: str
    email: str
    limit: int  # 0: no limit
    by_kind: dict[str, int] = field(default_factory=dict)
    tokens_active: int = 0
    last_used_at: dt.datetime | None = None
    endpoints_active: int = 0
    endpoints_disabled: int = 0
    deliveries_pending: int = 0

    @property
    def used(self) -> int:
        return sum(self.by_kind.values())

    @property
    def share(self) -> float | None:
        """The share of the quota used (None: no limit)."""
        return self.used / self.limit if self.limit else None


@dataclass(frozen=True)
class PartnersPage:
    month: dt.date  # its first day
    previous: dt.date
    following: dt.date | None  # None: the month is this one
    rows: list[PartnerRow]
    days: list[dt.date]  # every day of the month, up to today for this month
    per_day: dict[str, list[int]]  # kind: photos each day of `days`


def _days(month: dt.date, today: dt.date) -> list[dt.date]:
    last = min(month_next(month) - dt.timedelta(days=1), today)
    return [month + dt.timedelta(days=n) for n in range((last - month).days + 1)]


def partners_page(*, month: dt.date | None = None) -> PartnersPage:
    today = timezone.localdate()
    month = month_of(month or today)
    usage = month_days(month).filter(count__gt=0)
    user_ids = set(usage.values_list("user_id", flat=True)) | set(
        get_user_model()
        .objects.filter(groups__name=PARTNERS_GROUP, is_active=True)
        .values_list("pk", flat=True)
    )
    users = get_user_model().objects.filter(pk__in=user_ids).order_by("username")
    limits = monthly_limits(user_ids=user_ids)
    rows = {u.pk: PartnerRow(u.pk, u.get_username(), u.email or "", limits[u.pk]) for u in users}
    for user_id, kind, count in (
        usage.values("user_id", "kind").annotate(n=Sum("count")).values_list("user_id", "kind", "n")
    ):
        rows[user_id].by_kind[kind] = int(count)
    now = timezone.now()
    tokens = (
        PartnerToken.objects.filter(user_id__in=rows)
        .values("user_id")
        .annotate(
            active=Count("pk", filter=Q(revoked_at__isnull=True, expires_at__gt=now)),
            last=Max("last_used_at"),
        )
    )
    for t in tokens:
        rows[t["user_id"]].tokens_active = t["active"]
        rows[t["user_id"]].last_used_at = t["last"]
    endpoints = (
        WebhookEndpoint.objects.filter(owner_id__in=rows)
        .values("owner_id")
        .annotate(
            on=Count("pk", filter=Q(is_active=True)), off=Count("pk", filter=Q(is_active=False))
        )
    )
    for e in endpoints:
        rows[e["owner_id"]].endpoints_active = e["on"]
        rows[e["owner_id"]].endpoints_disabled = e["off"]
    pending = (
        WebhookDelivery.objects.filter(
            endpoint__owner_id__in=rows, status=WebhookDelivery.Status.PENDING
        )
        .values("endpoint__owner_id")
        .annotate(n=Count("pk"))
    )
    for p in pending:
        rows[p["endpoint__owner_id"]].deliveries_pending = p["n"]
    days = _days(month, today)
    index = {day: n for n, day in enumerate(days)}
    per_day = {kind: [0] * len(days) for kind in UsageKind.values}
    for day, kind, count in (
        usage.values("day", "kind").annotate(n=Sum("count")).values_list("day", "kind", "n")
    ):
        if day in index:
            per_day[kind][index[day]] = int(count)
    ordered = sorted(rows.values(), key=lambda r: (-r.used, r.name))
    following = month_next(month) if month_next(month) <= month_of(today) else None
    previous = month_of(month - dt.timedelta(days=1))
    return PartnersPage(month, previous, following, ordered, days, per_day)


__all__ = ["PartnerRow", "PartnersPage", "partners_page"]
