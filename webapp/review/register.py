"""The register column of the flag and plate pages, read through the registry's selectors.

The review pages only need a handful of fields, so registry rows are copied into a small
frozen dataclass here; templates never touch the registry models directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from registry import normalise
from registry.models import RegisterRecord
from registry.selectors import register_history_for_plate

# The register's vehicle kinds (KIND column), shown in the moderator's language beside the
# original. Unknown kinds are shown as they are.
VEHICLE_KINDS = {
    "ЛЕГКОВИЙ": _("passenger car"),
    "ВАНТАЖНИЙ": _("lorry"),
    "АВТОБУС": _("bus"),
    "МОТОЦИКЛ": _("motorcycle"),
    "МОПЕД": _("moped"),
    "ПРИЧІП": _("trailer"),
    "НАПІВПРИЧІП": _("semi-trailer"),
    "СПЕЦІАЛІЗОВАНИЙ": _("special-purpose vehicle"),
    "СПЕЦІАЛЬНИЙ": _("special vehicle"),
    "КВАДРОЦИКЛ": _("quad bike"),
    "ТРАКТОР": _("tractor"),
}


def _register_language() -> bool:
    """The register is in Ukrainian: a Ukrainian page needs no gloss beside its words."""
    return (get_language() or "").startswith("uk")


def colour_label(colour: str) -> str:
    """The register's colour (Ukrainian) in the moderator's language, "" when unknown."""
    if _register_language():
        return ""
    canonical = normalise.normalise_colour(colour or "")
    return str(_(canonical.replace("_", " "))) if canonical else ""


def kind_label(kind: str) -> str:
    if _register_language():
        return ""
    return str(VEHICLE_KINDS.get((kind or "").strip().upper(), ""))


@dataclass(frozen=True)
class Record:
    plate: str = ""
    make: str = ""
    model: str = ""
    colour: str = ""
    year: int | None = None
    vin: str = ""
    registered_on: dt.date | None = None
    operation: str = ""
    kind: str = ""
    current: bool = False
    # A removal from the register: the plate is on no registered car after it (as current),
    # and the car it names is the one the plate left.
    deregistered: bool = False

    @property
    def colour_label(self) -> str:
        return colour_label(self.colour)

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)


def _record(row: RegisterRecord, *, current: bool) -> Record:
    return Record(
        plate=row.plate_latin or row.plate,
        make=row.brand,
        model=row.model,
        colour=row.colour,
        year=row.make_year,
        vin=row.vin,
        registered_on=row.d_reg,
        operation=row.oper_name,
        kind=row.kind,
        current=current,
        deregistered=row.deregistered,
    )


# What a removal says became of the car (registry.normalise.Removal), in the moderator's words.
REMOVAL_REASONS = {
    normalise.Removal.EXPORT: _("the car was taken out of Ukraine"),
    normalise.Removal.SCRAPPED: _("the car was scrapped"),
    normalise.Removal.SALE: _("taken off the register for sale"),
}


@dataclass(frozen=True)
class VinRemoval:
    """The removal a ``vin_deregistered`` flag judged, from its evidence."""

    vin: str
    deregistered_on: str
    operation: str
    reason: str  # "" when the operation's name gives none
    car: str  # as the register last knew it: make, model, year, plate


def vin_removal(*, evidence: dict[str, Any]) -> VinRemoval:
    record = evidence.get("record") or {}
    car = " ".join(str(record[k]) for k in ("brand", "model", "make_year") if record.get(k))
    plate = record.get("plate") or ""
    return VinRemoval(
        vin=evidence.get("vin", ""),
        deregistered_on=evidence.get("deregistered_on", ""),
        operation=evidence.get("operation", ""),
        reason=str(REMOVAL_REASONS.get(evidence.get("reason", ""), "")),
        car=f"{car}, {plate}" if plate else car,
    )


def records_for_plate(*, plate_text: str) -> tuple[Record | None, list[Record]]:
    """The current record for a plate (a removal when the plate is on no registered car) and
    the older ones, newest first."""
    if not plate_text:
        return None, []
    current, older = register_history_for_plate(plate=plate_text)
    if current is None:
        return None, []
    return _record(current, current=True), [_record(row, current=False) for row in older]
