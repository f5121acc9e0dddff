from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from webapp.gates import audit, services
from webapp.gates.models import (
    AccessEntry,
    AuditAction,
    BlockEntry,
    Device,
    DeviceRequest,
    Gate,
    GateAuditEntry,
    GateCommand,
    Passage,
    Site,
    Visit,
)


class AuditedAdmin(admin.ModelAdmin):
    """Adds, changes and deletions made here go to the gate audit trail (`webapp.gates.audit`),
    in the admin's own transaction, with the values before and after."""

    snapshot: Callable[[Any], audit.Snapshot]  # a staticmethod
    added: AuditAction
    changed: AuditAction
    removed: AuditAction

    def prepare(self, request: HttpRequest, obj: Any) -> None:
        """Normalise the row before it is saved."""

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        self.prepare(request, obj)
        before = self.snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        after = self.snapshot(obj)
        if before != after:
            self._record(request, obj, self.changed if change else self.added, before, after)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        with transaction.atomic():
            self._record(request, obj, self.removed, self.snapshot(obj), {})
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._record(request, obj, self.removed, self.snapshot(obj), {})
            super().delete_queryset(request, queryset)

    def _record(
        self,
        request: HttpRequest,
        obj: Any,
        action: AuditAction,
        before: audit.Snapshot,
        after: audit.Snapshot,
    ) -> None:
        site = obj if isinstance(obj, Site) else None
        gate = obj if isinstance(obj, Gate) else getattr(obj, "gate", None)
        audit.record(
            action=action,
            actor=request.user,
            via=audit.VIA_ADMIN,
            gate=gate,
            site=site,
            plate=getattr(obj, "plate", ""),
            before=before,
            after=after,
        )


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    snapshot = staticmethod(audit.site_snapshot)
    added, changed, removed = (
        AuditAction.SITE_ADDED, AuditAction.SITE_CHANGED, AuditAction.SITE_REMOVED
    )  # fmt: skip
    list_display = [
        "name", "capacity", "max_stay_hours", "close_stays_after_hours", "anti_passback"
    ]  # fmt: skip
    search_fields = ["name"]


class DeviceInline(admin.TabularInline):
    model = Device
    fields = ["device_id", "is_active", "last_seen_at", "last_address", "software_version"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # devices are added with the action, which shows the secret once


@admin.register(Gate)
class GateAdmin(AuditedAdmin):
    snapshot = staticmethod(audit.gate_snapshot)
    added, changed, removed = (
        AuditAction.GATE_ADDED, AuditAction.GATE_CHANGED, AuditAction.GATE_REMOVED
    )  # fmt: skip
    list_display = [
        "name", "site", "direction", "open_to_all", "allow_confusable", "min_confidence",
        "deny_after_frames",
    ]  # fmt: skip
    inlines = [DeviceInline]
    actions = ["add_device"]

    @admin.action(description="Add a device (its secret is shown once)")
    def add_device(self, request: HttpRequest, queryset) -> None:
        for gate in queryset:
            new = services.device_create(gate=gate, by=request.user, via=audit.VIA_ADMIN)
            self.message_user(
                request,
                f"gate {gate.name}: device {new.device.device_id}, secret {new.secret} "
                "(copy it now; it is not shown again)",
                messages.WARNING,
            )


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["device_id", "gate", "is_active", "last_seen_at", "last_address"]
    list_filter = ["is_active", "gate"]
    # The secret is never shown after creation.
    fields = [
        "device_id", "gate", "is_active", "revoked_at", "last_seen_at", "last_address",
        "software_version",
    ]  # fmt: skip
    readonly_fields = [
        "device_id", "gate", "is_active", "revoked_at", "last_seen_at", "last_address",
        "software_version",
    ]  # fmt: skip
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected devices")
    def revoke(self, request: HttpRequest, queryset) -> None:
        for device in queryset:
            services.device_revoke(device_id=device.device_id, by=request.user, via=audit.VIA_ADMIN)
        self.message_user(request, f"{queryset.count()} revoked")


class PlateListAdmin(AuditedAdmin):
    exclude = ["added_by"]

    def prepare(self, request: HttpRequest, obj: Any) -> None:
        obj.plate = services.plate_key(obj.plate)
        obj.added_by = obj.added_by or request.user


@admin.register(AccessEntry)
class AccessEntryAdmin(PlateListAdmin):
    list_display = ["plate", "gate", "valid_from", "valid_until", "days", "hour_from", "hour_until"]
    list_filter = ["gate"]
    search_fields = ["plate", "note"]
    snapshot = staticmethod(audit.access_snapshot)
    added, changed, removed = (
        AuditAction.ACCESS_ADDED, AuditAction.ACCESS_CHANGED, AuditAction.ACCESS_REMOVED
    )  # fmt: skip


@admin.register(BlockEntry)
class BlockEntryAdmin(PlateListAdmin):
    list_display = ["plate", "gate", "reason", "created_at"]
    search_fields = ["plate"]
    snapshot = staticmethod(audit.block_snapshot)
    added, changed, removed = (
        AuditAction.BLOCK_ADDED, AuditAction.BLOCK_CHANGED, AuditAction.BLOCK_REMOVED
    )  # fmt: skip


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = [
        "id", "gate", "voted_plate", "decision", "reason", "watched", "frames_count", "decide_ms",
    ]  # fmt: skip
    list_filter = ["decision", "watched", "gate"]
    search_fields = ["voted_plate"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DeviceRequest)
class DeviceRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "claimed_device_id", "method", "code", "reason", "address"]
    list_filter = ["accepted", "code"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    """Read-only: visits are what the gates saw (`webapp.gates.visits`)."""

    list_display = ["plate", "site", "state", "entered_at", "exited_at"]
    list_filter = ["state", "site"]
    search_fields = ["plate"]
    raw_id_fields = ["entry_passage", "exit_passage"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(GateAuditEntry)
class GateAuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the changes themselves (`webapp.gates.audit`)."""

    list_display = ["created_at", "action", "actor_name", "via", "gate_name", "plate"]
    list_filter = ["action", "via"]
    search_fields = ["plate", "actor_name", "gate_name"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(GateCommand)
class GateCommandAdmin(admin.ModelAdmin):
    """Read-only: orders are given on the gate's page and carried out by its device
    (`webapp.gates.commands`)."""

    list_display = ["created_at", "gate", "action", "issued_by", "reason", "device", "result"]
    list_filter = ["result", "gate"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
