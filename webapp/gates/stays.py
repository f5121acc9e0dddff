"""Reads for the gate operators' site pages: who is on each site and for how long, the visits
that ended, their CSV, and how full a site was hour by hour (the decision-time reads of a site,
full or not, a plate on it or not, are in selectors.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Case, Count, DateTimeField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from registry.spreadsheet import spreadsheet_safe
from webapp.db_functions import EpochSeconds
from webapp.gates import rules
from webapp.gates.models import Direction, Gate, Site, Visit


def _local_iso(value: datetime | None) -> str:
    """A time as the site's operators read it: TIME_ZONE's wall clock, no offset."""
    return timezone.localtime(value).replace(tzinfo=None).isoformat() if value else ""


@dataclass(frozen=True)
class Stay:
    """A visit as the site page shows it: `duration` so far for a vehicle still on site."""

    visit: Visit
    duration: timedelta | None
    overstaying: bool


@dataclass(frozen=True)
class SiteStatus:
    site: Site
    inside: int
    overstaying: int

    @property
    def full_percent(self) -> int | None:
        if not self.site.capacity:
            return None
        return round(100 * self.inside / self.site.capacity)


def _overstay_cut(site: Site, now: datetime) -> datetime | None:
    return now - timedelta(hours=site.max_stay_hours) if site.max_stay_hours else None


def site_statuses(*, now: datetime | None = None) -> list[SiteStatus]:
    """Every site with entry or exit gates: vehicles on site now, and how many overstay. Two
    queries however many sites there are."""
    now = now or timezone.now()
    with_gates = Gate.objects.filter(
        site=OuterRef("pk"), direction__in=[Direction.ENTRY, Direction.EXIT]
    )
    sites = list(
        Site.objects.filter(Exists(with_gates))
        .annotate(inside=Count("visits", filter=Q(visits__state=Visit.State.INSIDE)))
        .order_by("name")
    )
    # Each site's overstay cut is its own (now less its max_stay_hours): one OR of them.
    over_cuts = Q()
    for site in sites:
        cut = _overstay_cut(site, now)
        if cut is not None:
            over_cuts |= Q(site_id=site.pk, entered_at__lt=cut)
    overstaying = (
        dict(
            Visit.objects.filter(over_cuts, state=Visit.State.INSIDE)
            .values_list("site_id")
            .annotate(n=Count("id"))
            .values_list("site_id", "n")
        )
        if over_cuts
        else {}
    )
    return [
        SiteStatus(
            site=site,
            inside=site.inside,  # type: ignore[attr-defined]
            overstaying=overstaying.get(site.pk, 0),
        )
        for site in sites
    ]


def site_stays_inside(*, site: Site, now: datetime | None = None) -> list[Stay]:
    """The vehicles on site, longest stay first."""
    now = now or timezone.now()
    cut = _overstay_cut(site, now)
    visits = Visit.objects.filter(site=site, state=Visit.State.INSIDE).select_related(
        "entry_passage__gate"
    )
    return [
        Stay(
            visit=v,
            duration=now - v.entered_at if v.entered_at else None,
            overstaying=bool(cut and v.entered_at and v.entered_at < cut),
        )
        for v in visits.order_by("entered_at", "id")
    ]


def site_visits(
    *, site: Site, plate: str = "", since: datetime | None = None, limit: int = 100
) -> list[Stay]:
    """The site's visits that ended (or lost an end), newest first; `plate` matches through
    confusable characters, as the gates match a stay's ends."""
    return list(_ended_stays(site=site, plate=plate, since=since, limit=limit))


def _ended_stays(
    *, site: Site, plate: str = "", since: datetime | None = None, limit: int | None = None
) -> Iterator[Stay]:
    visits = Visit.objects.filter(site=site).exclude(state=Visit.State.INSIDE)
    if plate:
        visits = visits.filter(plate_key=rules.confusable_key(plate))
    if since is not None:
        visits = visits.filter(Q(exited_at__gte=since) | Q(entered_at__gte=since))
    ordered = visits.select_related(
        "entry_passage__gate", "exit_passage__gate", "closed_by"
    ).order_by(F("exited_at").desc(nulls_last=True), F("entered_at").desc(nulls_last=True), "-id")
    longest = timedelta(hours=site.max_stay_hours) if site.max_stay_hours else None
    for v in ordered[:limit] if limit else ordered.iterator(chunk_size=2000):
        yield Stay(
            visit=v,
            duration=v.duration,
            overstaying=bool(longest and v.duration and v.duration > longest),
        )


VISITS_CSV_HEADER = ("plate", "state", "entered_at", "entry_gate", "exited_at", "exit_gate",
                     "minutes")  # fmt: skip


def site_visits_csv(*, site: Site, since: datetime | None = None) -> Iterator[tuple[str, ...]]:
    """Every visit of the site (on site too), for a spreadsheet: times in the site's time zone,
    cells that would start a formula escaped."""
    now = timezone.now()
    inside = site_stays_inside(site=site, now=now)
    yield VISITS_CSV_HEADER
    for stay in itertools.chain(inside, _ended_stays(site=site, since=since)):
        v = stay.visit
        minutes = "" if stay.duration is None else str(round(stay.duration.total_seconds() / 60))
        yield tuple(
            str(spreadsheet_safe(value))
            for value in (
                v.plate,
                v.state,
                _local_iso(v.entered_at),
                v.entry_passage.gate.name if v.entry_passage else "",
                _local_iso(v.exited_at),
                v.exit_passage.gate.name if v.exit_passage else "",
                minutes,
            )
        )


# The operators' audit trail (`webapp.gates.audit`): the page and its CSV export.


# --- how full a site was, hour by hour ------------------------------------------------------

OCCUPANCY_DAYS = 7
# Ended stays are looked for among those that began at most this long before the window: a
# longer one is a missed exit that an operator or the stale-stay sweep closed late.
LONGEST_STAY = timedelta(days=30)


@dataclass(frozen=True)
class Occupancy:
    """The most vehicles on a site at once in each hour of the last days, oldest hour first.

    A stay counts from its entry to its exit, or to when it was closed (an operator's *Has
    left*, or the stale-stay sweep), or to now while the vehicle is on site. A stay whose exit
    the gates missed and that the car's next entry closed has no known end, and a stay whose
    entry was missed no known start: neither is counted, so the figure is a floor."""

    hours: list[datetime]  # each hour's start, in TIME_ZONE
    most: list[int]


def site_occupancy(
    *, site: Site, now: datetime | None = None, days: int = OCCUPANCY_DAYS
) -> Occupancy:
    """One query for the stays that overlap the window, then one sweep of their entries and
    exits in time order."""
    now = now or timezone.now()
    last_hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    hours = [last_hour - timedelta(hours=h) for h in range(days * 24 - 1, -1, -1)]
    # The sweep compares times as seconds since 1970, as the query gives them.
    edges = [hour.timestamp() for hour in hours]
    start, until = edges[0], now.timestamp()
    window_start = hours[0].astimezone(UTC)
    # Each stay's end as SQL gives it, so that two times a row come back: now for a car on
    # site, else its exit or when it was closed (None: not known).
    end = Case(
        When(state=Visit.State.INSIDE, then=Value(now)),
        default=Coalesce("exited_at", "closed_at"),
        output_field=DateTimeField(),
    )
    rows = (
        Visit.objects.filter(site=site, entered_at__lt=now)
        .filter(
            Q(state=Visit.State.INSIDE)
            | Q(
                Q(exited_at__gt=window_start) | Q(closed_at__gt=window_start),
                entered_at__gte=window_start - LONGEST_STAY,
            )
        )
        .values_list(EpochSeconds("entered_at"), EpochSeconds(end))
    )
    events: list[tuple[float, int]] = []
    for entered_at, ended_at in rows:
        if ended_at is None or ended_at <= start or ended_at <= entered_at:
            continue
        events.append((max(entered_at, start), 1))
        if ended_at < until:
            events.append((ended_at, -1))
    events.sort()  # by time; at the same time a car leaving (-1) frees its space first
    most, current, i = [], 0, 0
    for hour in edges:
        # what was on site as the hour began (a car that left on the hour is gone) ...
        while i < len(events) and events[i] < (hour, 1):
            current += events[i][1]
            i += 1
        # ... then the most at once within the hour
        peak, hour_end = current, hour + 3600.0
        while i < len(events) and events[i][0] < hour_end:
            current += events[i][1]
            peak = max(peak, current)
            i += 1
        most.append(peak)
    return Occupancy(hours=hours, most=most)
