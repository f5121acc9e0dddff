"""The register column of the flag page, read through the registry app's selectors.

The review pages only need a handful of fields, so registry rows are copied into a small
frozen dataclass here; templates never touch the registry models directly.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

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


def colour_label(colour: str) -> str:
    """The register's colour (Ukrainian) in the moderator's language, "" when unknown."""
    from registry import normalise

    canonical = normalise.normalise_colour(colour or "")
    return str(_(canonical.replace("_", " "))) if canonical else ""


def kind_label(kind: str) -> str:
    return str(VEHICLE_KINDS.get((kind or "").strip().upper(), ""))


# A plate with more operations than this is a fleet plate; the page shows the newest ones.
HISTORY_LIMIT = 30


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

    @property
    def colour_label(self) -> str:
        return colour_label(self.colour)

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)


def _first(row: Any, *names: str) -> Any:
    for name in names:
        value = getattr(row, name, None)
        if value not in (None, ""):
            return value
    return None


def _record(row: Any, *, current: bool) -> Record:
    registered = _first(row, "d_reg", "registered_on", "registration_date")
    if isinstance(registered, dt.datetime):
        registered = registered.date()
    year = _first(row, "year", "make_year", "manufacture_year")
    return Record(
        plate=str(_first(row, "plate_latin", "plate_text", "plate") or ""),
        make=str(_first(row, "make", "brand") or ""),
        model=str(_first(row, "model") or ""),
        colour=str(_first(row, "colour", "color") or ""),
        year=int(year) if year else None,
        vin=str(_first(row, "vin") or ""),
        registered_on=registered if isinstance(registered, dt.date) else None,
        operation=str(_first(row, "oper_name", "operation") or ""),
        kind=str(_first(row, "kind") or ""),
        current=current,
    )


def records_for_plate(*, plate_text: str) -> tuple[Record | None, list[Record]]:
    """The current record for a plate and the older ones, newest first."""
    if not plate_text:
        return None, []
    try:
        from registry import selectors
    except ImportError:  # the registry app is optional in a bare checkout
        logger.warning("registry.selectors is not available; register column left empty")
        return None, []
    # The registry orders newest first (by date, then file order): the current record is the
    # first one, the rule the cross-check uses too.
    rows = list(selectors.register_records_for_plate(plate=plate_text)[:HISTORY_LIMIT])
    if not rows:
        return None, []
    records = [_record(row, current=i == 0) for i, row in enumerate(rows)]
    return records[0], records[1:]
