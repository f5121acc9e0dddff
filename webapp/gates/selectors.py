"""Reads for gates: who may pass now, the device's copy of its list, the operator pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from recognition.pipeline.regions import normalise_plate
from registry.models import RegisterRecord
from registry.selectors import register_current_for_plates
from registry.spreadsheet import spreadsheet_safe
from webapp.filters import days_filter
from webapp.gates import audit, rules
from webapp.gates.models import (
    AccessEntry,
    BlockEntry,
    Device,
    DeviceRequest,
    Direction,
    Frame,
    Gate,
    GateAuditEntry,
    Passage,
    Visit,
)
from webapp.paging import PageBounds, page_bounds


def _local_naive(value: datetime | None) -> datetime | None:
    # Windows are wall-clock rules ("weekdays 08:00-18:00") in the site's TIME_ZONE.
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


def entry_window(entry: AccessEntry) -> rules.Window:
    return rules.Window(
        valid_from=_local_naive(entry.valid_from),
        valid_until=_local_naive(entry.valid_until),
        days=entry.days,
        hour_from=entry.hour_from,
        hour_until=entry.hour_until,
    )


def allowed_plates(*, gate: Gate, at: datetime) -> list[str]:
    local = _local_naive(at)
    assert local is not None
    return [
        entry.plate
        for entry in AccessEntry.objects.filter(gate=gate)
        if rules.window_admits(entry_window(entry), local)
    ]


def blocked_plates(*, gate: Gate) -> list[str]:
    return list(
        BlockEntry.objects.filter(Q(gate=gate) | Q(gate__isnull=True)).values_list(
            "plate", flat=True
        )
    )


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def access_list_payload(*, gate: Gate) -> dict[str, object]:
    """The device's offline copy: every entry with its window, the block-list, the settings."""
    entries = [
        {
            "plate": e.plate,
            "valid_from": _iso(_local_naive(e.valid_from)),
            "valid_until": _iso(_local_naive(e.valid_until)),
            "days": e.days,
            "hour_from": _iso(e.hour_from),
            "hour_until": _iso(e.hour_until),
        }
        for e in AccessEntry.objects.filter(gate=gate)
    ]
    return {
        "gate": gate.name,
        "timezone": settings.TIME_ZONE,
        "allow_confusable": gate.allow_confusable,
        "open_to_all": gate.open_to_all,
        "generated_at": timezone.now().isoformat(),
        "entries": entries,
        "blocked": blocked_plates(gate=gate),
    }


def access_csv_export(*, gate: Gate) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["plate", "valid_from", "valid_until", "days", "hour_from", "hour_until", "note"]
    )
    for e in AccessEntry.objects.filter(gate=gate):
        writer.writerow(
            [
                e.plate,
                _iso(_local_naive(e.valid_from)) or "",
                _iso(_local_naive(e.valid_until)) or "",
                e.days,
                e.hour_from.strftime("%H:%M") if e.hour_from else "",
                e.hour_until.strftime("%H:%M") if e.hour_until else "",
                e.note,
            ]
        )
    return buffer.getvalue()


# The passages page: newest first, filtered, a page at a time; and its CSV export.
PASSAGES_PAGE_SIZE = 50
PASSAGES_CSV_COLUMNS = (
    "last_frame", "first_frame", "gate", "plate", "confidence", "decision", "reason",
    "watch_list", "frames", "decide_ms",
)  # fmt: skip


@dataclass(frozen=True)
class PassageFilters:
    plate: str = ""  # any part of the voted plate, normalised (normalise_plate)
    gate_id: int | None = None
    decision: str = ""
    date_from: date | None = None
    date_to: date | None = None  # included


@dataclass(frozen=True)
class PassageRow:
    """A passage as the operators' page shows it: its best frame (None once retention purged
    them) and the register's current record for the voted plate (None if it holds none)."""

    passage: Passage
    frame: Frame | None
    record: RegisterRecord | None


@dataclass(frozen=True)
class PassagePage:
    rows: list[PassageRow]
    number: int
    has_next: bool


def _passages_filtered(filters: PassageFilters) -> QuerySet[Passage]:
    qs = Passage.objects.select_related("gate", "device")
    if filters.plate:
        # Any part: an operator often recalls the digits only. The trigram index of gates
        # migration 0008 serves `LIKE '%1234%'` on PostgreSQL.
        qs = qs.filter(voted_plate__contains=filters.plate)
    if filters.gate_id:
        qs = qs.filter(gate_id=filters.gate_id)
    if filters.decision:
        qs = qs.filter(decision=filters.decision)
    qs = days_filter(qs, "last_frame_at", filters.date_from, filters.date_to)
    return qs.order_by("-last_frame_at", "-id")


def _passage_rows(passages: list[Passage]) -> list[PassageRow]:
    """Each passage with its best frame (most confident, then latest) and its plate's register
    record: two queries for the whole page, however many rows it has (the live page reloads
    every few seconds on every operator's screen)."""
    best = Frame.objects.filter(passage=OuterRef("pk")).order_by("-confidence", "-id")
    best_ids = Passage.objects.filter(pk__in=[p.pk for p in passages]).values(
        frame_id=Subquery(best.values("id")[:1])
    )
    frames = {frame.passage_id: frame for frame in Frame.objects.filter(pk__in=best_ids)}
    records = register_current_for_plates(plates=[p.voted_plate for p in passages])
    return [
        PassageRow(
            passage=p,
            frame=frames.get(p.pk),
            record=records.get(normalise_plate(p.voted_plate)) if p.voted_plate else None,
        )
        for p in passages
    ]


# A passage ends after the gate's deny_after_frames or its passage_gap_s: more frames than this
# is a camera stuck on a parked car; the first page tells the story, the next ones the rest.
PASSAGE_FRAMES_SHOWN = 60
PLATE_EARLIER_SHOWN = 10


@dataclass(frozen=True)
class PassageDetail:
    """One passage, as an operator asks "why did the gate decide so?": its frames in the order
    taken, each with what it read and what the gate answered after it; the register's record
    for the voted plate; the stay it began or ended; the plate's passages before it, any gate."""

    passage: Passage
    frames: list[Frame]  # the page's, PASSAGE_FRAMES_SHOWN a page
    frames_page: PageBounds
    frames_kept: int  # all pages'; fewer than passage.frames_count once retention purged some
    record: RegisterRecord | None
    visit: Visit | None
    earlier: list[Passage]


def passage_detail(*, passage_id: int, frames_page: int = 1) -> PassageDetail:
    """Raises Passage.DoesNotExist. A frames page out of range shows the nearest one."""
    passage = Passage.objects.select_related("gate", "gate__site", "device").get(pk=passage_id)
    kept = passage.frames.count()
    bounds = page_bounds(total=kept, page=frames_page, per_page=PASSAGE_FRAMES_SHOWN)
    frames = list(passage.frames.order_by("captured_at", "id")[bounds.start : bounds.stop])
    paged = {"frames": frames, "frames_page": bounds, "frames_kept": kept}
    visit = (
        Visit.objects.select_related("site")
        .filter(Q(entry_passage=passage) | Q(exit_passage=passage))
        .first()
    )
    plate = passage.voted_plate
    if not plate:
        return PassageDetail(passage=passage, **paged, record=None, visit=visit, earlier=[])
    earlier = Passage.objects.select_related("gate").filter(
        voted_plate=plate, last_frame_at__lt=passage.last_frame_at
    )
    return PassageDetail(
        passage=passage,
        **paged,
        record=register_current_for_plates(plates=[plate]).get(normalise_plate(plate)),
        visit=visit,
        earlier=list(earlier.order_by("-last_frame_at", "-id")[:PLATE_EARLIER_SHOWN]),
    )


def passages_page(*, filters: PassageFilters, page: int = 1) -> PassagePage:
    """One page of the matching passages, newest first. No total: counting a year of a busy
    gate's passages on every refresh of the live page costs more than the page; one row past
    the page says whether there is a next one."""
    number = max(1, page)
    start = (number - 1) * PASSAGES_PAGE_SIZE
    passages = list(_passages_filtered(filters)[start : start + PASSAGES_PAGE_SIZE + 1])
    return PassagePage(
        rows=_passage_rows(passages[:PASSAGES_PAGE_SIZE]),
        number=number,
        has_next=len(passages) > PASSAGES_PAGE_SIZE,
    )


def passages_csv_rows(*, filters: PassageFilters) -> Iterator[tuple[str, ...]]:
    """Every matching passage, newest first, streamed; spreadsheet-safe cells (a reason may
    quote an operator's note)."""
    yield PASSAGES_CSV_COLUMNS
    for p in _passages_filtered(filters).iterator(chunk_size=2000):
        row = (
            timezone.localtime(p.last_frame_at).isoformat(timespec="seconds"),
            timezone.localtime(p.started_at).isoformat(timespec="seconds"),
            p.gate.name,
            p.voted_plate,
            f"{p.confidence:.2f}",
            p.decision,
            p.reason,
            p.watched,
            str(p.frames_count),
            "" if p.decide_ms is None else f"{p.decide_ms:.0f}",
        )
        yield tuple(str(spreadsheet_safe(value)) for value in row)


@dataclass(frozen=True)
class DeviceStatus:
    device: Device
    frames_last_minute: int
    refusals_last_hour: int
    last_refusal: str


def device_statuses() -> list[DeviceStatus]:
    """Every device with its frames of the last minute and its refusals: three queries however
    many devices there are."""
    now = timezone.now()
    refused = DeviceRequest.objects.filter(device=OuterRef("pk"), accepted=False)
    devices = Device.objects.select_related("gate").annotate(
        frames_minute=Count(
            "frames", filter=Q(frames__received_at__gte=now - timedelta(minutes=1))
        ),
        last_refusal=Subquery(refused.order_by("-created_at", "-id").values("code")[:1]),
    )
    refusals = dict(
        DeviceRequest.objects.filter(accepted=False, created_at__gte=now - timedelta(hours=1))
        .values_list("device_id")
        .annotate(n=Count("id"))
        .values_list("device_id", "n")
    )
    return [
        DeviceStatus(
            device=device,
            frames_last_minute=device.frames_minute,  # type: ignore[attr-defined]
            refusals_last_hour=refusals.get(device.pk, 0),
            last_refusal=device.last_refusal or "",  # type: ignore[attr-defined]
        )
        for device in devices
    ]


def gate_by_name(*, name: str) -> Gate:
    return Gate.objects.get(name=name)


# --- visits: the site reads a gate decision needs (the site pages' are in stays.py) ----------


def site_is_full(*, gate: Gate) -> bool:
    """The gate is its site's way in, and the site holds as many cars as it has spaces."""
    site = gate.site
    if gate.direction != Direction.ENTRY or site is None or not site.capacity:
        return False
    return Visit.objects.filter(site=site, state=Visit.State.INSIDE).count() >= site.capacity


def plate_on_site_since(*, gate: Gate, plate: str, at: datetime) -> datetime | None:
    """Anti-passback: when `plate` entered the site that `gate` lets in, if it is on it still
    (an entry before `at`, no exit seen); None at other gates and at sites without it. The same
    car seen again at the barrier within `rules.REPEAT_WINDOW` is not on site "already"."""
    site = gate.site
    if gate.direction != Direction.ENTRY or site is None or not site.anti_passback or not plate:
        return None
    visit = (
        Visit.objects.filter(
            site=site,
            plate_key=rules.confusable_key(plate),
            state=Visit.State.INSIDE,
            entered_at__lt=at - rules.REPEAT_WINDOW,
        )
        .order_by("-entered_at")
        .first()
    )
    return visit.entered_at if visit is not None else None


AUDIT_PAGE_SIZE = 100
AUDIT_CSV_COLUMNS = ("when", "who", "via", "action", "gate", "site", "plate", "change")


@dataclass(frozen=True)
class AuditFilters:
    gate_id: int | None = None
    action: str = ""
    plate: str = ""  # a plate key (normalise_plate)
    actor: str = ""  # a user name, as it was then
    date_from: date | None = None
    date_to: date | None = None  # included


@dataclass(frozen=True)
class AuditRow:
    entry: GateAuditEntry
    changes: list[tuple[str, str, str]]  # field, before, after: the fields that differ

    @property
    def via(self) -> str:
        return str(audit.VIA_LABELS.get(self.entry.via, self.entry.via))


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    number: int
    num_pages: int
    total: int


def _audit_filtered(filters: AuditFilters) -> QuerySet[GateAuditEntry]:
    qs = GateAuditEntry.objects.all()
    if filters.gate_id:
        qs = qs.filter(gate_id=filters.gate_id)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.plate:
        qs = qs.filter(plate=filters.plate)
    if filters.actor:
        qs = qs.filter(actor_name=filters.actor)
    qs = days_filter(qs, "created_at", filters.date_from, filters.date_to)
    return qs.select_related("site").order_by("-created_at", "-id")


def audit_changes(entry: GateAuditEntry) -> list[tuple[str, str, str]]:
    """The fields an entry changed, in the order they were recorded: (field, before, after);
    an addition's or a removal's every field with a value."""
    fields = list(dict.fromkeys([*entry.after, *entry.before]))
    return [
        (field, _shown(entry.before.get(field)), _shown(entry.after.get(field)))
        for field in fields
        if entry.before.get(field) != entry.after.get(field)
    ]


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def audit_page(*, filters: AuditFilters, page: int = 1) -> AuditPage:
    qs = _audit_filtered(filters)
    total = qs.count()
    bounds = page_bounds(total=total, page=page, per_page=AUDIT_PAGE_SIZE)
    rows = [
        AuditRow(entry=entry, changes=audit_changes(entry))
        for entry in qs[bounds.start : bounds.stop]
    ]
    return AuditPage(rows=rows, number=bounds.number, num_pages=bounds.num_pages, total=total)


def audit_csv_rows(*, filters: AuditFilters) -> Iterator[tuple[str, ...]]:
    """Every matching entry, newest first, streamed (no page limit); spreadsheet-safe cells
    (operators type notes and reasons)."""
    yield AUDIT_CSV_COLUMNS
    for entry in _audit_filtered(filters).iterator(chunk_size=2000):
        change = "; ".join(f"{field}: {old} -> {new}" for field, old, new in audit_changes(entry))
        row = (
            timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
            entry.actor_name,
            entry.via,
            entry.action,
            entry.gate_name,
            entry.site.name if entry.site else "",
            entry.plate,
            change,
        )
        yield tuple(str(spreadsheet_safe(value)) for value in row)


def audit_actor_names() -> list[str]:
    """Everyone the trail names, for the page's filter."""
    names = GateAuditEntry.objects.exclude(actor_name="").order_by("actor_name")
    return list(names.values_list("actor_name", flat=True).distinct())
