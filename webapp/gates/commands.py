"""An operator opens a gate by hand: the order (`GateCommand`), its hand-over to one of the
gate's devices, and the device's report that the relay fired.

A device asks for its gate's orders every few seconds (`GET /api/v1/gates/commands/`, the Pi
client's `--command-poll`); each waiting order goes to the first device that asks, once (its
row is locked, `SKIP LOCKED`, so two devices of one gate never both open for it). An order not
taken within `GATE_COMMAND_TTL_S` lapses and is never handed out: a device that comes back
online later must not open the barrier for a car long gone. Every order is in the operators'
audit trail, with who gave it and why.

    order = command_open(gate=gate, by=user, reason="driver at the intercom, plate bent")
    [order] = commands_take(device=device)          # the device's poll
    command_done(device=device, command_id=order.pk, result="opened")
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from webapp.gates import audit
from webapp.gates.audit import Actor
from webapp.gates.models import AuditAction, Device, Gate, GateCommand

WAITING = pgettext_lazy("gate command", "Waiting for the device")
TAKEN = pgettext_lazy("gate command", "Taken by the device")
LAPSED = pgettext_lazy("gate command", "Lapsed: no device asked in time")


class UnknownCommand(LookupError):
    """No such order was handed to this device."""


def command_status(command: GateCommand, *, now: datetime | None = None) -> str:
    """Where an order stands: waiting, taken, lapsed (no device took it in time), or the
    device's report (opened, failed)."""
    if command.done_at is not None:
        return command.result
    if command.taken_at is not None:
        return "taken"
    if command.expires_at <= (now or timezone.now()):
        return "lapsed"
    return "waiting"


_LABELS = {"waiting": WAITING, "taken": TAKEN, "lapsed": LAPSED}


def command_state(command: GateCommand) -> str:
    """`command_status` as the operator page says it."""
    status = command_status(command)
    if status in _LABELS:
        return str(_LABELS[status])
    return str(command.get_result_display())


@transaction.atomic
def command_open(*, gate: Gate, by: Actor, reason: str, via: str = audit.VIA_CODE) -> GateCommand:
    """Order the gate's barrier open; `reason` is required (it goes in the audit trail)."""
    reason = " ".join(reason.split())[:255]
    if not reason:
        raise ValueError(gettext("say why the gate is opened by hand"))
    user = by if by is not None and by.is_authenticated else None
    command = GateCommand.objects.create(
        gate=gate,
        reason=reason,
        issued_by=user,
        expires_at=timezone.now() + timedelta(seconds=settings.GATE_COMMAND_TTL_S),
    )
    audit.record(
        action=AuditAction.GATE_OPENED,
        actor=by,
        via=via,
        gate=gate,
        after={"command": command.pk, "reason": reason},
    )
    return command


@transaction.atomic
def commands_take(*, device: Device) -> list[GateCommand]:
    """The orders waiting for the device's gate, now the device's: each is handed out once."""
    now = timezone.now()
    waiting = list(
        GateCommand.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("issued_by")
        .filter(gate_id=device.gate_id, taken_at__isnull=True, expires_at__gt=now)
        .order_by("created_at", "id")
    )
    for command in waiting:
        command.device = device
        command.taken_at = now
    GateCommand.objects.bulk_update(waiting, ["device", "taken_at"])
    return waiting


def command_payload(command: GateCommand) -> dict[str, object]:
    """An order as the device reads it."""
    return {
        "id": command.pk,
        "action": command.action,
        "reason": command.reason,
        "by": command.issued_by.get_username() if command.issued_by else "",
        "expires_at": command.expires_at.timestamp(),
    }


@transaction.atomic
def command_done(*, device: Device, command_id: int, result: str, detail: str = "") -> GateCommand:
    """The device's report on an order it took. Reported again (an answer lost on the way), the
    first report stands."""
    if result not in GateCommand.Result.values:
        raise ValueError(f"result must be one of {', '.join(GateCommand.Result.values)}")
    command = GateCommand.objects.select_for_update().filter(pk=command_id, device=device).first()
    if command is None:
        raise UnknownCommand(f"no command {command_id} was handed to {device.device_id}")
    if command.done_at is None:
        command.done_at = timezone.now()
        command.result = result
        command.detail = detail[:255]
        command.save(update_fields=["done_at", "result", "detail"])
    return command


def commands_recent(*, gate: Gate, limit: int = 10) -> list[GateCommand]:
    return list(GateCommand.objects.filter(gate=gate).select_related("issued_by", "device")[:limit])


__all__ = [
    "UnknownCommand",
    "command_done",
    "command_open",
    "command_payload",
    "command_state",
    "command_status",
    "commands_recent",
    "commands_take",
]
