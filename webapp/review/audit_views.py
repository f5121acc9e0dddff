"""The moderators' audit log: filtered pages and a CSV export of the same filter."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from webapp.filters import filtered_csv_response
from webapp.paging import page_number
from webapp.review.forms import AuditFilterForm
from webapp.review.permissions import moderator_required
from webapp.review.selectors.audit import audit_csv_rows, audit_log


@require_GET
@moderator_required
def audit_log_view(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.pop("page", None)
    form = AuditFilterForm(params)
    result = audit_log(filters=form.filters(), page=page_number(request))
    status = 400 if form.errors else 200
    context = {"form": form, "page": result, "querystring": params.urlencode()}
    return render(request, "review/audit_log.html", context, status=status)


@require_GET
@moderator_required
def audit_csv_view(request: HttpRequest) -> HttpResponse:
    # The rows' times are UTC (ISO 8601 with the offset), and so is the file name's.
    return filtered_csv_response(
        AuditFilterForm(request.GET), audit_csv_rows, name="audit", at=timezone.now()
    )
