from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from recognition import dispatch
from recognition.models import BacklogRun, CrosscheckRequest, CrosscheckRequestQuerySet, Reading
from recognition.selectors import BacklogProgress, backlog_progress
from recognition.services import crosscheck_requests_create


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["plate_text", "plate_format", "confidence", "source", "model_version", "photo"]
    list_filter = ["source", "model_version", "plate_format", "created_at"]
    search_fields = ["plate_text", "photo__listing__marketplace_id"]
    raw_id_fields = ["photo", "created_by"]
    readonly_fields = ["created_at"]


def _progress(run: BacklogRun) -> BacklogProgress:
    # Counted once per row of the page, not once per column.
    cached: BacklogProgress | None = getattr(run, "_progress", None)
    if cached is None:
        cached = backlog_progress(run=run)
        run._progress = cached  # type: ignore[attr-defined]
    return cached


@admin.register(BacklogRun)
class BacklogRunAdmin(admin.ModelAdmin):
    """The operator's progress page of the nightly backlog: count, rate and ETA per run."""

    list_display = [
        "started_at",
        "model_version",
        "total",
        "enqueued",
        "read",
        "failed",
        "remaining",
        "rate",
        "eta",
    ]
    readonly_fields = [f.name for f in BacklogRun._meta.fields]
    # The photos a run sent (100,000 a night): counted above, never listed in a form.
    exclude = ["photos"]

    def has_add_permission(self, request: object) -> bool:
        return False  # runs are started by beat or `manage.py recognize_backlog`

    @admin.display(description="read")
    def read(self, run: BacklogRun) -> int:
        return _progress(run).done

    @admin.display(description="failed")
    def failed(self, run: BacklogRun) -> int:
        return _progress(run).failed

    @admin.display(description="remaining")
    def remaining(self, run: BacklogRun) -> int:
        return _progress(run).remaining

    @admin.display(description="photos/s")
    def rate(self, run: BacklogRun) -> str:
        return f"{_progress(run).rate_per_s:.1f}"

    @admin.display(description="ETA")
    def eta(self, run: BacklogRun) -> str:
        eta = _progress(run).eta
        return "-" if eta is None else str(eta)


class _GivenUp(admin.SimpleListFilter):
    title = "given up"
    parameter_name = "given_up"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes: the check kept raising"), ("no", "No")]

    def queryset(
        self, request: HttpRequest, queryset: CrosscheckRequestQuerySet
    ) -> CrosscheckRequestQuerySet:
        if self.value() in ("yes", "no"):
            return queryset.given_up(self.value() == "yes")
        return queryset


@admin.register(CrosscheckRequest)
class CrosscheckRequestAdmin(admin.ModelAdmin):
    list_display = ["listing", "requested_at", "sent_at", "checked_at", "is_due", "failures",
                    "error"]  # fmt: skip
    list_filter = [_GivenUp]
    raw_id_fields = ["listing"]
    readonly_fields = ["failures", "last_error"]
    actions = ["ask_again"]

    @admin.display(boolean=True, description="due")
    def is_due(self, request: CrosscheckRequest) -> bool:
        return request.is_due

    @admin.display(description="last error")
    def error(self, request: CrosscheckRequest) -> str:
        return request.last_error[:120]

    @admin.action(description="Ask again (once the cause is fixed)")
    def ask_again(self, request: HttpRequest, queryset: QuerySet[CrosscheckRequest]) -> None:
        listing_ids = list(queryset.values_list("listing_id", flat=True))
        crosscheck_requests_create(listing_ids=listing_ids)
        sent = dispatch.crosscheck_send(listing_ids=listing_ids)  # the rest: the sweeper's
        self.message_user(request, f"{len(listing_ids)} cross-checks asked for again, {sent} sent")
