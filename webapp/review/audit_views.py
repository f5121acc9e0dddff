"""The moderators' audit log: filtered pages and a CSV export of the same filter."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from registry.spreadsheet import csv_lines
from webapp.filters import invalid_filter_response
from webapp.review.forms import AuditFilterForm
from webapp.review.permissions import moderator_required
from webapp.review.selectors.audit import audit_csv_rows, audit_log


@require_GET
@moderator_required
def audit_log_view(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.pop("page", None)
    form = AuditFilterForm(params)
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    result = audit_log(filters=form.filters(), page=page)
    status = 400 if form.errors else 200
    context = {"form": form, "page": result, "querystring": params.urlencode()}
    return render(request, "review/audit_log.html", context, status=status)


@require_GET
@moderator_required
def audit_csv_view(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if form.errors:
        return invalid_filter_response(form)
    rows = csv_lines(audit_csv_rows(filters=form.filters()))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
