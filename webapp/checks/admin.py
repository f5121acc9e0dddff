from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from webapp.checks.models import Flag, ListingVerdict


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["listing", "kind", "key", "severity", "status", "reviewer", "created_at"]
    list_filter = ["status", "kind", "severity", "plate_format", "created_at"]
    search_fields = ["listing__marketplace_id", "plate_text", "key", "note"]
    raw_id_fields = ["listing", "reviewer"]
    readonly_fields = ["evidence_hash", "version", "created_at", "updated_at"]


@admin.register(ListingVerdict)
class ListingVerdictAdmin(admin.ModelAdmin):
    """What each listing's latest cross-check could vouch for; written by the cross-check only."""

    list_display = ["listing", "reason", "plate", "plate_source", "plate_confidence", "checked_at"]
    list_filter = ["reason", "plate_source", "checked_at"]
    search_fields = ["listing__marketplace_id", "plate"]
    raw_id_fields = ["listing"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
