"""A partner's photos read, counted a day, against a monthly quota (services and selectors).

Each photo an API call has read counts once, whatever it was read for (`UsageKind`): stored
for reading (a new photo; the bytes of one the listing holds already count nothing), read now
(`recognize/`) or hidden now (`redact/`). Months and days are TIME_ZONE's.

    with usage_charge(user=user, kind=UsageKind.PHOTO, count=len(files)) as charge:
        added = store(files)                           # an exception gives it all back
        charge.keep(sum(a.created for a in added))     # the duplicates given back

The count is taken before the work, in a short transaction of its own, which refuses it
(`QuotaExceeded`) when the month's quota would be passed. The quota is never passed, however
many requests race: on PostgreSQL each partner's charges take turns on an advisory lock, and
SQLite lets one transaction write at a time. Work that fails (a photo refused, the engine down)
gives its count back, so a partner pays only for what was read. A charge that crosses 80 % of
the quota, or reaches all of it, tells the partner's endpoints (`usage.quota`), once per
crossing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from webapp.partners.models import (
    PartnerQuota,
    UsageDay,
    UsageKind,
    WebhookEndpoint,
    WebhookEvent,
)
from webapp.partners.webhooks import webhook_event_emit_to

# The advisory-lock key of a partner's charges: a key space of its own (see ordering.py).
CHARGE_LOCK_KEY = "platecheck.usage.charge:"
# Shares of the quota whose crossing is told to the partner (`usage.quota`).
WARN_SHARES = (0.8, 1.0)


@dataclass(frozen=True)
class Quota:
    """A partner's month: photos read so far and the quota (`limit` 0: none)."""

    month: date  # its first day
    limit: int
    used: int

    @property
    def resets_on(self) -> date:
        return month_next(self.month)

    @property
    def remaining(self) -> int | None:
        return max(self.limit - self.used, 0) if self.limit else None

    def seconds_to_reset(self) -> int:
        midnight = timezone.make_aware(datetime.combine(self.resets_on, time()))
        return max(math.ceil((midnight - timezone.now()).total_seconds()), 1)


class QuotaExceeded(Exception):
    def __init__(self, quota: Quota, wanted: int) -> None:
        self.quota = quota
        self.wanted = wanted
        left = quota.remaining or 0
        super().__init__(
            f"{wanted} photo(s) asked for, {left} of this month's {quota.limit} left; "
            f"the quota resets on {quota.resets_on.isoformat()}"
        )


@dataclass
class Charge:
    """Photos counted for one request; `quota` is the month after the charge. As a context
    manager, it gives back what it still holds if its block raises."""

    user_id: int
    kind: str
    day: date
    count: int
    quota: Quota
    given_back: int = field(default=0)

    def __enter__(self) -> Charge:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.give_back(self.count - self.given_back)

    def keep(self, count: int) -> None:
        """Keep only `count` of the photos counted (the rest were not read)."""
        self.give_back(self.count - self.given_back - max(count, 0))

    def give_back(self, count: int) -> None:
        if count <= 0:
            return
        UsageDay.objects.filter(user_id=self.user_id, day=self.day, kind=self.kind).update(
            count=F("count") - count
        )
        self.given_back += count
        self.quota = Quota(self.quota.month, self.quota.limit, self.quota.used - count)


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_next(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_parse(text: str) -> date:
    """The first day of the month `YYYY-MM` names; ValueError when it names none."""
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


def month_days(month: date) -> QuerySet[UsageDay]:
    """Every partner's counts of the month whose first day is `month`."""
    return UsageDay.objects.filter(day__gte=month, day__lt=month_next(month))


def monthly_limit(*, user_id: int) -> int:
    """The partner's own quota, or API_MONTHLY_PHOTOS; 0: no limit."""
    return monthly_limits(user_ids=[user_id])[user_id]


def monthly_limits(*, user_ids: Iterable[int]) -> dict[int, int]:
    """`monthly_limit` of each partner, in one query."""
    ids = set(user_ids)
    own = dict(
        PartnerQuota.objects.filter(user_id__in=ids).values_list("user_id", "photos_per_month")
    )
    default = int(settings.API_MONTHLY_PHOTOS)
    return {user_id: int(own.get(user_id, default)) for user_id in ids}


def _used(*, user_id: int, month: date) -> int:
    total = month_days(month).filter(user_id=user_id).aggregate(total=Sum("count"))["total"]
    return int(total or 0)


def usage_quota(*, user: AbstractBaseUser, day: date | None = None) -> Quota:
    """The partner's month holding `day` (today by default)."""
    month = month_of(day or timezone.localdate())
    return Quota(month, monthly_limit(user_id=user.pk), _used(user_id=user.pk, month=month))


@dataclass(frozen=True)
class UsageReport:
    quota: Quota
    by_kind: dict[str, int]
    days: list[dict[str, Any]]  # {day, <kind>: count, ..., total}, oldest first, days used only


def usage_report(*, user: AbstractBaseUser, month: date) -> UsageReport:
    """A month of the partner's usage, a day and a kind."""
    month = month_of(month)
    rows = (
        month_days(month).filter(user_id=user.pk, count__gt=0).values_list("day", "kind", "count")
    )
    kinds = list(UsageKind.values)
    by_kind = dict.fromkeys(kinds, 0)
    days: dict[date, dict[str, Any]] = {}
    for day, kind, count in rows:
        entry = days.setdefault(day, {"day": day, **dict.fromkeys(kinds, 0), "total": 0})
        entry[kind] += count
        entry["total"] += count
        by_kind[kind] += count
    quota = Quota(month, monthly_limit(user_id=user.pk), sum(by_kind.values()))
    return UsageReport(quota, by_kind, [days[d] for d in sorted(days)])


def usage_month_by_partner(*, day: date | None = None) -> dict[str, tuple[int, int]]:
    """User name: (photos read, quota) for each partner who used any this month."""
    month = month_of(day or timezone.localdate())
    rows = month_days(month).values("user_id", "user__username").annotate(total=Sum("count"))
    limits = monthly_limits(user_ids=[row["user_id"] for row in rows])
    return {row["user__username"]: (int(row["total"] or 0), limits[row["user_id"]]) for row in rows}


def _lock(user_id: int) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: one writing transaction at a time already
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"{CHARGE_LOCK_KEY}{int(user_id)}"],
        )


def _count_add(*, user_id: int, day: date, kind: str, count: int) -> None:
    updated = UsageDay.objects.filter(user_id=user_id, day=day, kind=kind).update(
        count=F("count") + count
    )
    if updated:
        return
    try:
        with transaction.atomic():
            UsageDay.objects.create(user_id=user_id, day=day, kind=kind, count=count)
    except IntegrityError:  # made meanwhile by a charge that took no lock (SQLite)
        UsageDay.objects.filter(user_id=user_id, day=day, kind=kind).update(
            count=F("count") + count
        )


def usage_charge(*, user: AbstractBaseUser, kind: str, count: int) -> Charge:
    """Count `count` photos of `kind` for the partner today, or raise QuotaExceeded (nothing
    counted). Committed at once: call it outside the work's transaction."""
    if kind not in UsageKind.values:
        raise ValueError(f"unknown usage kind {kind!r}")
    day = timezone.localdate()
    month = month_of(day)
    with transaction.atomic():
        _lock(user.pk)
        # The write first: on SQLite it takes the database's write lock before the sum is read.
        _count_add(user_id=user.pk, day=day, kind=kind, count=count)
        limit = monthly_limit(user_id=user.pk)
        after = Quota(month, limit, _used(user_id=user.pk, month=month))
        before = Quota(month, limit, after.used - count)
        if limit and after.used > limit:
            raise QuotaExceeded(before, count)
        _tell_crossings(user=user, before=before, after=after)
    return Charge(user_id=user.pk, kind=kind, day=day, count=count, quota=after)


def _tell_crossings(*, user: AbstractBaseUser, before: Quota, after: Quota) -> None:
    if not after.limit:
        return
    for share in WARN_SHARES:
        mark = math.ceil(after.limit * share)
        if before.used < mark <= after.used:
            webhook_event_emit_to(
                event=WebhookEvent.USAGE_QUOTA,
                endpoints=WebhookEndpoint.objects.filter(owner_id=user.pk),
                data={
                    "month": after.month.strftime("%Y-%m"),
                    "share": share,
                    "used": after.used,
                    "limit": after.limit,
                    "resets_on": after.resets_on.isoformat(),
                },
            )


__all__ = [
    "Charge",
    "Quota",
    "QuotaExceeded",
    "UsageReport",
    "month_days",
    "month_next",
    "month_of",
    "month_parse",
    "monthly_limit",
    "monthly_limits",
    "usage_charge",
    "usage_month_by_partner",
    "usage_quota",
    "usage_report",
]
