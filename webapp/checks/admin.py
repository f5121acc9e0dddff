from __future__ import annotations

from django.contrib import admin

from webapp.checks.models import Flag


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["listing", "kind", "key", "severity", "status", "reviewer", "created_at"]
    list_filter = ["status", "kind", "severity", "plate_format", "created_at"]
    search_fields = ["listing__marketplace_id", "plate_text", "key", "note"]
    raw_id_fields = ["listing", "reviewer"]
    readonly_fields = ["evidence_hash", "version", "created_at", "updated_at"]
