from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from webapp.review.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is written by the review services, never by hand."""

    list_display = ("created_at", "action", "flag_ref", "listing", "user", "bulk", "reason")
    list_filter = ("action", "bulk", ("created_at", admin.DateFieldListFilter), "user")
    search_fields = ("=flag_ref", "listing__marketplace_id", "user__username", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("user", "listing")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
