"""The gate operators' audit trail: every change to who may pass (access and block lists, a
gate's settings, its devices) and every vehicle taken off a site by hand, with who made it,
where (a page, the admin, a command) and the values before and after.

`record` is called inside the change's own transaction (`services`, `visits`, `admin`), so a
change that rolls back leaves no entry and no change that commits goes unrecorded. Entries are
never edited; they keep the plate and the gate's name when the entry, the gate or the user they
name is deleted.

    with transaction.atomic():
        entry.delete()
        record(action=AuditAction.ACCESS_REMOVED, actor=user, via=VIA_PAGE, gate=gate,
               plate=entry.plate, before=access_snapshot(entry))
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from webapp.gates.models import AccessEntry, AuditAction, BlockEntry, Gate, GateAuditEntry, Site

# Where a change was made (`GateAuditEntry.via`); commands name themselves (`manage.py ...`).
VIA_PAGE = "operator page"
VIA_ADMIN = "admin"
VIA_CSV = "CSV import"
VIA_CODE = "code"  # a service called from code that did not say where (tests, the shell)
# How the pages name them; a command's name is shown as it is.
VIA_LABELS = {
    VIA_PAGE: pgettext_lazy("gate audit via", "operator page"),
    VIA_ADMIN: pgettext_lazy("gate audit via", "admin"),
    VIA_CSV: pgettext_lazy("gate audit via", "CSV import"),
    VIA_CODE: pgettext_lazy("gate audit via", "code"),
}

# The settings of a gate that decide who passes and what is counted.
GATE_SETTINGS = (
    "site",
    "direction",
    "open_to_all",
    "allow_confusable",
    "min_confidence",
    "deny_after_frames",
    "passage_gap_s",
)

Actor = AbstractBaseUser | AnonymousUser | None
Snapshot = dict[str, Any]


def stamp(value: datetime | time | None) -> str:
    """A time as the trail keeps it: local, to the minute ('' for none)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    return value.isoformat(timespec="minutes")


def access_snapshot(entry: AccessEntry) -> Snapshot:
    return {
        "plate": entry.plate,
        "gate": entry.gate.name,
        "valid_from": stamp(entry.valid_from),
        "valid_until": stamp(entry.valid_until),
        "days": entry.days,
        "hour_from": stamp(entry.hour_from),
        "hour_until": stamp(entry.hour_until),
        "note": entry.note,
    }


def block_snapshot(entry: BlockEntry) -> Snapshot:
    # A block entry without a gate holds at every gate.
    return {
        "plate": entry.plate,
        "gate": entry.gate.name if entry.gate else "*",
        "reason": entry.reason,
    }


# The settings of a site that decide who passes (anti-passback, a full site) and what is kept.
SITE_SETTINGS = ("capacity", "max_stay_hours", "close_stays_after_hours", "anti_passback")


def site_snapshot(site: Site) -> Snapshot:
    return {"name": site.name, **{field: getattr(site, field) for field in SITE_SETTINGS}}


def gate_snapshot(gate: Gate) -> Snapshot:
    values: Snapshot = {"name": gate.name}
    for field in GATE_SETTINGS:
        value = getattr(gate, field)
        values[field] = value.name if isinstance(value, Site) else value
    return values


def record(
    *,
    action: AuditAction,
    actor: Actor,
    via: str,
    gate: Gate | None = None,
    site: Site | None = None,
    plate: str = "",
    before: Snapshot | None = None,
    after: Snapshot | None = None,
) -> GateAuditEntry:
    """One entry of the trail; call it inside the change's transaction."""
    user = actor if actor is not None and actor.is_authenticated else None
    return GateAuditEntry.objects.create(
        action=action,
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        via=via[:64],
        gate=gate,
        gate_name=gate.name if gate is not None else "",
        site=site if site is not None else (gate.site if gate is not None else None),
        plate=plate[:16],
        before=before or {},
        after=after or {},
    )


__all__ = [
    "GATE_SETTINGS",
    "SITE_SETTINGS",
    "VIA_ADMIN",
    "VIA_CODE",
    "VIA_CSV",
    "VIA_LABELS",
    "VIA_PAGE",
    "access_snapshot",
    "block_snapshot",
    "gate_snapshot",
    "site_snapshot",
    "record",
    "stamp",
]
