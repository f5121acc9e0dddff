"""Read-side queries of the register: a plate's or a VIN's records, and the current one."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from recognition.pipeline.regions import normalise_plate
from registry.models import ImportRun, RegisterRecord
from registry.normalise import is_deregistration, normalise_vin

# Enough history to show a plate's past cars; a plate with more operations is a fleet plate.
HISTORY_LIMIT = 50
# The Ministry publishes the register monthly: older than this, a month's file was missed (the
# engineer's alert PlatecheckRegisterStale has the same threshold).
STALE_AFTER = dt.timedelta(days=45)


_TABLE = RegisterRecord._meta.db_table
# A plate's operations of one day: a removal and a registration, now and then a correction.
# A plate with more rows on its latest day than this has that day read whole (exact, rarer).
LATEST_ROWS = 4
_LATEST_FOR_PLATE_SQL = (
    f"SELECT * FROM {_TABLE} WHERE plate_latin = %s"
    f" ORDER BY d_reg DESC, id DESC LIMIT {LATEST_ROWS}"
)
_DAY_FOR_PLATE_SQL = (
    f"SELECT * FROM {_TABLE} WHERE plate_latin = %s AND d_reg = %s ORDER BY id DESC"
)


def _current(newest_first: list[RegisterRecord]) -> RegisterRecord:
    """The current record among records newest first: on the latest day, a registration comes
    after a removal whatever the rows' order (the rule of ``registry.crosscheck.current_record``:
    a plate can leave a car and then go on another the same day, never the other way round)."""
    latest_day = [r for r in newest_first if r.d_reg == newest_first[0].d_reg]
    return next((r for r in latest_day if not r.deregistered), latest_day[0])


def register_records_for_plate(*, plate: str) -> QuerySet[RegisterRecord]:
    """Every operation for a plate (Latin or Cyrillic, any spacing), newest first."""
    key = normalise_plate(plate)
    return (
        RegisterRecord.objects.filter(plate_latin=key).order_by("-d_reg", "-id")
        if key
        else (RegisterRecord.objects.none())
    )


def register_current_for_plate(*, plate: str) -> RegisterRecord | None:
    """The latest operation of a plate: by D_REG, a registration after a removal of the same
    day, then by row order. A removal (``deregistered``) means no registered car wears it."""
    key = normalise_plate(plate)
    if not key:
        return None
    # The hottest lookup: raw SQL skips the ORM's query compilation, a third of its latency.
    records = list(RegisterRecord.objects.raw(_LATEST_FOR_PLATE_SQL, [key]))
    if len(records) == LATEST_ROWS and records[-1].d_reg == records[0].d_reg:
        records = list(RegisterRecord.objects.raw(_DAY_FOR_PLATE_SQL, [key, records[0].d_reg]))
    return _current(records) if records else None


def register_records_for_vin(*, vin: str) -> QuerySet[RegisterRecord]:
    key = normalise_vin(vin)
    if not key:
        return RegisterRecord.objects.none()
    return RegisterRecord.objects.filter(vin=key).order_by("-d_reg", "-id")


def register_history_for_plate(*, plate: str) -> tuple[RegisterRecord | None, list[RegisterRecord]]:
    """The current record of a plate and up to ``HISTORY_LIMIT`` older ones, newest first.

    Same rule as ``register_current_for_plate`` and the cross-check's, so a page never shows
    another car as current than the flag compared with.
    """
    rows = list(register_records_for_plate(plate=plate)[:HISTORY_LIMIT])
    if not rows:
        return None, []
    current = _current(rows)
    return current, [row for row in rows if row is not current]


def _latest_day_rows(
    field: Literal["plate_latin", "vin"], keys: list[str]
) -> QuerySet[RegisterRecord]:
    """Every record of the latest day of each key: the day the current record is on. One query;
    the latest day of each key is one step of the register's (key, -d_reg, -id) index."""
    # Both filters keep the register's partial indexes (plate or VIN not empty) usable.
    history = RegisterRecord.objects.exclude(**{field: ""})
    latest_day = history.filter(**{field: OuterRef(field)}).order_by("-d_reg").values("d_reg")[:1]
    return history.filter(**{f"{field}__in": keys}, d_reg=Subquery(latest_day))


def register_current_for_plates(*, plates: Iterable[str]) -> dict[str, RegisterRecord]:
    """The current record of each of these plates (Latin or Cyrillic, any spacing), keyed by
    its normalised plate (``normalise_plate``); a plate the register does not hold has no key.
    One query for a page of plates, by the rule of ``register_current_for_plate``."""
    keys = sorted({normalise_plate(plate) for plate in plates} - {""})
    if not keys:
        return {}
    latest_day: dict[str, list[RegisterRecord]] = defaultdict(list)
    for record in _latest_day_rows("plate_latin", keys).order_by("plate_latin", "-id"):
        latest_day[record.plate_latin].append(record)
    return {key: _current(records) for key, records in latest_day.items()}


def register_keys_deregistered(
    *, field: Literal["plate_latin", "vin"], keys: Iterable[str]
) -> set[str]:
    """Of these plate keys (``plate_latin``) or VINs (``vin``), the ones whose current record is
    a removal: every operation of their latest day is one (a registration that day would be
    current, the rule of ``register_current_for_plate``). One query; callers batch the keys."""
    keys = sorted(set(keys) - {""})
    if not keys:
        return set()
    removed: dict[str, bool] = {}
    for key, oper_name in _latest_day_rows(field, keys).values_list(field, "oper_name"):
        removed[key] = removed.get(key, True) and is_deregistration(oper_name)
    return {key for key, is_removed in removed.items() if is_removed}


@dataclass(frozen=True)
class RegisterAge:
    """How current the register is: when an import last finished whole."""

    imported_at: dt.datetime
    stale: bool  # older than STALE_AFTER: a car registered or removed since is not known


def register_file_imported(*, sha256: str) -> ImportRun | None:
    """The run that imported a file with these bytes whole, if any (an import skips such a
    file; a fetch does not even import it)."""
    return ImportRun.objects.filter(file_sha256=sha256, status=ImportRun.Status.DONE).first()


def register_age() -> RegisterAge | None:
    """None when no import has finished (a register of hand-made rows, or none)."""
    at = ImportRun.objects.filter(status=ImportRun.Status.DONE).aggregate(at=Max("finished_at"))
    if at["at"] is None:
        return None
    return RegisterAge(at["at"], timezone.now() - at["at"] > STALE_AFTER)
