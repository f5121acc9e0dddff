"""Writes for gates: provisioning, access and block lists (with CSV import), the devices'
request log. Each change to who may pass is written to the operators' audit trail (`audit`) in
its own transaction: `by` is who made it, `via` where (a page, the admin, a command)."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_time
from django.utils.translation import gettext

from recognition.pipeline.regions import normalise_plate
from webapp.gates import audit
from webapp.gates.audit import Actor
from webapp.gates.models import (
    AccessEntry,
    AuditAction,
    BlockEntry,
    Device,
    DeviceRequest,
    Direction,
    Frame,
    Gate,
    Site,
)

# 32 bytes of secret: HMAC-SHA256's block strength, printable for a config file.
SECRET_BYTES = 32
CSV_FIELDS = ("plate", "valid_from", "valid_until", "days", "hour_from", "hour_until", "note")


@transaction.atomic
def gate_create(
    *,
    name: str,
    site: str = "",
    direction: str | None = None,
    open_to_all: bool | None = None,
    by: Actor = None,
    via: str = audit.VIA_CODE,
) -> Gate:
    """The gate `name`, made if new; `direction` (entry, exit, both) and `open_to_all` are set
    when given."""
    if direction is not None and direction not in Direction.values:
        raise ValueError(f"direction {direction!r}: one of {', '.join(Direction.values)}")
    site_row = Site.objects.get_or_create(name=site)[0] if site else None
    gate, created = Gate.objects.get_or_create(name=name, defaults={"site": site_row})
    before = audit.gate_snapshot(gate)
    changes = {
        field: value
        for field, value in (("direction", direction), ("open_to_all", open_to_all))
        if value is not None and getattr(gate, field) != value
    }
    if changes:
        for field, value in changes.items():
            setattr(gate, field, value)
        gate.save(update_fields=list(changes))
    if created or changes:
        audit.record(
            action=AuditAction.GATE_ADDED if created else AuditAction.GATE_CHANGED,
            actor=by,
            via=via,
            gate=gate,
            before={} if created else before,
            after=audit.gate_snapshot(gate),
        )
    return gate


@dataclass(frozen=True)
class NewDevice:
    device: Device
    secret: str  # shown once, to whoever provisions the device


@transaction.atomic
def device_create(*, gate: Gate, by: Actor = None, via: str = audit.VIA_CODE) -> NewDevice:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    device = Device.objects.create(device_id=f"gd_{secrets.token_hex(6)}", gate=gate, secret=secret)
    audit.record(
        action=AuditAction.DEVICE_ADDED,
        actor=by,
        via=via,
        gate=gate,
        after={"device": device.device_id},  # never the secret
    )
    return NewDevice(device=device, secret=secret)


@transaction.atomic
def device_revoke(*, device_id: str, by: Actor = None, via: str = audit.VIA_CODE) -> Device:
    device = Device.objects.select_for_update().select_related("gate").get(device_id=device_id)
    if device.is_active:
        device.is_active = False
        device.revoked_at = timezone.now()
        device.save(update_fields=["is_active", "revoked_at"])
        audit.record(
            action=AuditAction.DEVICE_REVOKED,
            actor=by,
            via=via,
            gate=device.gate,
            before={"device": device.device_id, "active": True},
            after={"device": device.device_id, "active": False},
        )
    return device


def device_seen(*, device: Device, address: str | None, version: str) -> None:
    Device.objects.filter(pk=device.pk).update(
        last_seen_at=timezone.now(), last_address=address, software_version=version[:64]
    )


def plate_key(text: str) -> str:
    key = normalise_plate(text)
    if not key or len(key) > 16 or not key.isalnum():
        raise ValueError(gettext("not a plate: %(text)s") % {"text": repr(text)})
    return key


def _days(text: str) -> str:
    days = "".join(sorted(set(text.replace(",", "").replace(" ", ""))))
    if any(ch not in "0123456" for ch in days):
        raise ValueError(
            gettext("days must be digits 0-6 (Monday=0), got %(text)s") % {"text": repr(text)}
        )
    return days


def access_entry_add(
    *,
    gate: Gate,
    plate: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    days: str = "",
    hour_from: time | None = None,
    hour_until: time | None = None,
    note: str = "",
    added_by: AbstractBaseUser | None = None,
    via: str = audit.VIA_CODE,
) -> AccessEntry:
    if valid_from and valid_until and valid_until < valid_from:
        raise ValueError(gettext("valid_until is before valid_from"))
    with transaction.atomic():
        entry = AccessEntry.objects.create(
            gate=gate,
            plate=plate_key(plate),
            valid_from=valid_from,
            valid_until=valid_until,
            days=_days(days),
            hour_from=hour_from,
            hour_until=hour_until,
            note=note[:255],
            added_by=added_by,
        )
        audit.record(
            action=AuditAction.ACCESS_ADDED,
            actor=added_by,
            via=via,
            gate=gate,
            plate=entry.plate,
            after=audit.access_snapshot(entry),
        )
    return entry


@transaction.atomic
def access_entry_delete(
    *, gate: Gate, entry_id: int, by: Actor = None, via: str = audit.VIA_CODE
) -> bool:
    """False when the entry was gone already (deleted meanwhile, another gate's)."""
    entry = AccessEntry.objects.select_for_update().filter(gate=gate, pk=entry_id).first()
    if entry is None:
        return False
    audit.record(
        action=AuditAction.ACCESS_REMOVED,
        actor=by,
        via=via,
        gate=gate,
        plate=entry.plate,
        before=audit.access_snapshot(entry),
    )
    entry.delete()
    return True


@transaction.atomic
def block_entry_add(
    *,
    plate: str,
    gate: Gate | None = None,
    reason: str = "",
    added_by: AbstractBaseUser | None = None,
    via: str = audit.VIA_CODE,
) -> BlockEntry:
    entry = BlockEntry.objects.create(
        plate=plate_key(plate), gate=gate, reason=reason[:255], added_by=added_by
    )
    audit.record(
        action=AuditAction.BLOCK_ADDED,
        actor=added_by,
        via=via,
        gate=gate,
        plate=entry.plate,
        after=audit.block_snapshot(entry),
    )
    return entry


def datetime_from_text(text: str, field: str) -> datetime | None:
    if not text:
        return None
    value = parse_datetime(text)
    if value is None:
        raise ValueError(
            gettext("%(field)s: not a date-time %(text)s (use YYYY-MM-DD HH:MM)")
            % {"field": field, "text": repr(text)}
        )
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def time_from_text(text: str, field: str) -> time | None:
    if not text:
        return None
    value = parse_time(text)
    if value is None:
        raise ValueError(
            gettext("%(field)s: not a time %(text)s (use HH:MM)")
            % {"field": field, "text": repr(text)}
        )
    return value


def access_csv_import(*, gate: Gate, data: str, added_by: AbstractBaseUser | None = None) -> int:
    """All rows or none: the first bad row raises ValueError naming its line, nothing is kept."""
    reader = csv.DictReader(io.StringIO(data))
    if reader.fieldnames is None or "plate" not in reader.fieldnames:
        raise ValueError(
            gettext("the CSV needs a header row with at least 'plate' (%(fields)s)")
            % {"fields": ", ".join(CSV_FIELDS)}
        )
    count = 0
    with transaction.atomic():
        for line, row in enumerate(reader, start=2):
            values = {k: (row.get(k) or "").strip() for k in CSV_FIELDS}
            try:
                access_entry_add(
                    gate=gate,
                    plate=values["plate"],
                    valid_from=datetime_from_text(values["valid_from"], "valid_from"),
                    valid_until=datetime_from_text(values["valid_until"], "valid_until"),
                    days=values["days"],
                    hour_from=time_from_text(values["hour_from"], "hour_from"),
                    hour_until=time_from_text(values["hour_until"], "hour_until"),
                    note=values["note"],
                    added_by=added_by,
                    via=audit.VIA_CSV,
                )
            except ValueError as exc:
                raise ValueError(
                    gettext("line %(line)d: %(error)s") % {"line": line, "error": exc}
                ) from exc
            count += 1
    return count


def device_request_audit(
    *,
    device: Device | None,
    claimed_device_id: str,
    method: str,
    path: str,
    address: str | None,
    body_bytes: int,
    code: str,
    reason: str = "",
    frame: Frame | None = None,
) -> DeviceRequest:
    return DeviceRequest.objects.create(
        device=device,
        claimed_device_id=claimed_device_id[:64],
        method=method[:8],
        path=path[:255],
        address=address,
        body_bytes=body_bytes,
        accepted=code.startswith("accepted"),
        code=code[:32],
        reason=reason[:255],
        frame=frame,
    )
