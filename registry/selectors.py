"""Read-side queries of the register: a plate's or a VIN's records, and the current one."""

from __future__ import annotations

from django.db.models import QuerySet

from recognition.pipeline.regions import normalise_plate
from registry.models import RegisterRecord
from registry.normalise import normalise_vin

# Enough history to show a plate's past cars; a plate with more operations is a fleet plate.
HISTORY_LIMIT = 50


_CURRENT_FOR_PLATE_SQL = (
    f"SELECT * FROM {RegisterRecord._meta.db_table} WHERE plate_latin = %s"
    " ORDER BY d_reg DESC, id DESC LIMIT 1"
)


def register_records_for_plate(*, plate: str) -> QuerySet[RegisterRecord]:
    """Every operation for a plate (Latin or Cyrillic, any spacing), newest first."""
    key = normalise_plate(plate)
    return (
        RegisterRecord.objects.filter(plate_latin=key).order_by("-d_reg", "-id")
        if key
        else (RegisterRecord.objects.none())
    )


def register_current_for_plate(*, plate: str) -> RegisterRecord | None:
    """The latest registration of a plate: by D_REG, then by row order for the same day."""
    key = normalise_plate(plate)
    if not key:
        return None
    # The hottest lookup: raw SQL skips the ORM's query compilation, a third of its latency.
    records = RegisterRecord.objects.raw(_CURRENT_FOR_PLATE_SQL, [key])
    return next(iter(records), None)


def register_records_for_vin(*, vin: str) -> QuerySet[RegisterRecord]:
    key = normalise_vin(vin)
    if not key:
        return RegisterRecord.objects.none()
    return RegisterRecord.objects.filter(vin=key).order_by("-d_reg", "-id")


def register_history_for_plate(*, plate: str) -> tuple[RegisterRecord | None, list[RegisterRecord]]:
    """The current record of a plate and up to ``HISTORY_LIMIT`` older ones, newest first.

    Same order as ``register_current_for_plate`` and the cross-check's rule, so a page never
    shows another car as current than the flag compared with.
    """
    rows = list(register_records_for_plate(plate=plate)[:HISTORY_LIMIT])
    return (rows[0], rows[1:]) if rows else (None, [])
