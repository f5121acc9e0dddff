from __future__ import annotations

from django.contrib import admin

from recognition.models import Reading


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["plate_text", "plate_format", "confidence", "source", "model_version", "photo"]
    list_filter = ["source", "model_version", "plate_format", "created_at"]
    search_fields = ["plate_text", "photo__listing__marketplace_id"]
    raw_id_fields = ["photo", "created_by"]
    readonly_fields = ["created_at"]
