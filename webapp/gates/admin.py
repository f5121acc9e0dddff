from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from webapp.gates import services
from webapp.gates.models import (
    AccessEntry,
    BlockEntry,
    Device,
    DeviceRequest,
    Gate,
    Passage,
    Site,
    Visit,
)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "capacity", "max_stay_hours", "close_stays_after_hours"]
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
class GateAdmin(admin.ModelAdmin):
    list_display = [
        "name", "site", "direction", "open_to_all", "allow_confusable", "min_confidence",
        "deny_after_frames",
    ]  # fmt: skip
    inlines = [DeviceInline]
    actions = ["add_device"]

    @admin.action(description="Add a device (its secret is shown once)")
    def add_device(self, request: HttpRequest, queryset) -> None:
        for gate in queryset:
            new = services.device_create(gate=gate)
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
            services.device_revoke(device_id=device.device_id)
        self.message_user(request, f"{queryset.count()} revoked")


@admin.register(AccessEntry)
class AccessEntryAdmin(admin.ModelAdmin):
    list_display = ["plate", "gate", "valid_from", "valid_until", "days", "hour_from", "hour_until"]
    list_filter = ["gate"]
    search_fields = ["plate", "note"]
    exclude = ["added_by"]

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        obj.plate = services.plate_key(obj.plate)
        obj.added_by = obj.added_by or request.user
        super().save_model(request, obj, form, change)


@admin.register(BlockEntry)
class BlockEntryAdmin(admin.ModelAdmin):
    list_display = ["plate", "gate", "reason", "created_at"]
    search_fields = ["plate"]
    exclude = ["added_by"]

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        obj.plate = services.plate_key(obj.plate)
        obj.added_by = obj.added_by or request.user
        super().save_model(request, obj, form, change)


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = ["id", "gate", "voted_plate", "decision", "reason", "frames_count", "decide_ms"]
    list_filter = ["decision", "gate"]
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
