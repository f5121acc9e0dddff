from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from recognition.pipeline.regions import normalise_plate
from registry.models import ImportReject, ImportRun, RegisterFetch, RegisterRecord, WatchEntry
from registry.normalise import normalise_vin, vin_key
from registry.spreadsheet import csv_lines, spreadsheet_safe
from registry.watchlist import watch_entries_delete, watch_entry_save


def _rejects_csv_rows(runs: QuerySet[ImportRun]) -> Iterator[list[object]]:
    yield ["run", "file", "source", "line", "reason", "raw"]
    rejects = (
        ImportReject.objects.filter(run__in=runs)
        .select_related("run")
        .order_by("run_id", "source", "line")
    )
    for reject in rejects.iterator(chunk_size=2000):
        cells = [
            reject.run_id,
            reject.run.file_name,
            reject.source,
            reject.line,
            reject.reason,
            reject.raw,
        ]
        yield [spreadsheet_safe(cell) for cell in cells]


def rejects_csv_response(runs: QuerySet[ImportRun], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(_rejects_csv_rows(runs)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "file_name",
        "status",
        "progress_display",
        "variant",
        "encoding",
        "rows_read",
        "rows_inserted",
        "rows_duplicate",
        "rows_rejected",
        "listings_touched",
        "started_at",
        "duration",
        "rejects_link",
    )
    list_filter = ("status", "variant")
    search_fields = ("file_name", "file_sha256")
    readonly_fields = [field.name for field in ImportRun._meta.fields]
    actions = ["download_rejects"]

    class Media:
        js = ("registry/import_progress.js",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are created by `manage.py import_register`

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="progress")
    def progress_display(self, run: ImportRun) -> str:
        """Rows, rows/s and ETA of a running import (issue 20); reload for fresh numbers."""
        if run.status != ImportRun.Status.RUNNING:
            return run.get_status_display()
        p = run.progress()
        eta = _eta_text(p.eta_seconds)
        share = "" if p.fraction is None else f" ({p.fraction:.0%})"
        return format_html(
            '<span class="import-progress" data-run="{}">{} rows{} · {} rows/s · ETA {}</span>',
            run.pk,
            f"{p.rows:,}",
            share,
            f"{p.rows_per_second:,.0f}",
            eta,
        )

    @admin.display(description="seconds")
    def duration(self, run: ImportRun) -> str:
        seconds = run.duration_seconds
        return "-" if seconds is None else f"{seconds:.1f}"

    @admin.display(description="rejects")
    def rejects_link(self, run: ImportRun) -> str:
        if not run.rows_rejected:
            return "-"
        url = reverse("admin:registry_importrun_rejects", args=[run.pk])
        return format_html('<a href="{}">{} rejects (CSV)</a>', url, run.rows_rejected)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:run_id>/rejects.csv",
                self.admin_site.admin_view(self.rejects_view),
                name="registry_importrun_rejects",
            ),
            path(
                "<int:run_id>/progress.json",
                self.admin_site.admin_view(self.progress_view),
                name="registry_importrun_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        """The progress cell's text, polled by import_progress.js while the run is going."""
        run = get_object_or_404(ImportRun, pk=run_id)
        if not self.has_view_permission(request, run):
            return HttpResponse(status=403)
        p = run.progress()
        return JsonResponse(
            {
                "status": run.status,
                "rows": p.rows,
                "rows_per_second": round(p.rows_per_second, 1),
                "eta_seconds": None if p.eta_seconds is None else round(p.eta_seconds),
                "fraction": p.fraction,
                "text": str(self.progress_display(run)),
            }
        )

    def rejects_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = get_object_or_404(ImportRun, pk=run_id)
        if not self.has_view_permission(request, run):
            return HttpResponse(status=403)
        return rejects_csv_response(
            ImportRun.objects.filter(pk=run.pk), f"rejects-run-{run.pk}.csv"
        )

    @admin.action(description="Download rejects as CSV")
    def download_rejects(self, request: HttpRequest, queryset: QuerySet[ImportRun]) -> HttpResponse:
        return rejects_csv_response(queryset, "rejects.csv")


def _eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


class EstimatedCountPaginator(Paginator):
    """Counting tens of millions of rows on every admin page load is seconds of wasted work."""

    @cached_property
    def count(self) -> int:
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                    [RegisterRecord._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > 10_000:
                return int(row[0])
        return super().count


@admin.register(RegisterFetch)
class RegisterFetchAdmin(admin.ModelAdmin):
    """Each look at the register's source (`manage.py register_fetch`, beat): read only."""

    list_display = ("id", "started_at", "outcome", "http_status", "bytes", "import_run", "file_url")
    list_filter = ("outcome",)
    search_fields = ("file_url", "source_url", "error")
    readonly_fields = [field.name for field in RegisterFetch._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RegisterRecord)
class RegisterRecordAdmin(admin.ModelAdmin):
    list_display = (
        "plate",
        "vin",
        "brand",
        "model",
        "colour",
        "make_year",
        "d_reg",
        "oper_code",
        "oper_name",
        "import_run",
        "line",
    )
    search_fields = ("plate_latin", "vin")
    search_help_text = "Exact plate (Latin or Cyrillic, any spacing) or exact VIN."
    list_select_related = ("import_run",)
    ordering = ("-d_reg", "-id")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = [field.name for field in RegisterRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RegisterRecord], search_term: str
    ) -> tuple[QuerySet[RegisterRecord], bool]:
        # Exact, indexed lookups: the default icontains would scan the whole register.
        term = search_term.strip()
        if not term:
            return queryset, False
        plate, vin = normalise_plate(term), normalise_vin(term)
        if not plate and not vin:
            return queryset.none(), False
        return queryset.filter(Q(plate_latin=plate or None) | Q(vin=vin or None)), False


class WatchEntryForm(forms.ModelForm):
    class Meta:
        model = WatchEntry
        fields = ("plate", "vin", "reason", "source", "note")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not normalise_plate(data.get("plate") or "") and not vin_key(data.get("vin") or ""):
            raise forms.ValidationError(_("Give a plate or a VIN."))
        return data


@admin.register(WatchEntry)
class WatchEntryAdmin(admin.ModelAdmin):
    """The watch list: saving or deleting an entry has the listings that show or declare its
    plate or VIN re-checked (``registry.watchlist``), in the same transaction."""

    form = WatchEntryForm
    list_display = ("plate", "vin", "reason", "source", "added_at", "added_by")
    list_filter = ("reason",)
    search_fields = ("plate", "vin", "source", "note")
    readonly_fields = ("added_by", "added_at")
    fields = ("plate", "vin", "reason", "source", "note", "added_by", "added_at")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WatchEntry], search_term: str
    ) -> tuple[QuerySet[WatchEntry], bool]:
        """A plate or VIN as typed (any script, spacing or case) finds its entry."""
        keys = {normalise_plate(search_term), vin_key(search_term)} - {""}
        found, duplicates = super().get_search_results(request, queryset, search_term)
        return found | queryset.filter(Q(plate__in=keys) | Q(vin__in=keys)), duplicates

    def save_model(self, request: HttpRequest, obj: WatchEntry, form: Any, change: bool) -> None:
        if not change:
            obj.added_by = request.user  # type: ignore[assignment]
        watch_entry_save(entry=obj, plate=obj.plate, vin=obj.vin)

    def delete_model(self, request: HttpRequest, obj: WatchEntry) -> None:
        watch_entries_delete(entry_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WatchEntry]) -> None:
        watch_entries_delete(entry_ids=list(queryset.values_list("pk", flat=True)))
