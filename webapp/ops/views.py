"""Operators' endpoints: /healthz, /metrics (staff or allowed addresses), model versions, their
comparison on the photos two versions read, what moderators corrected in their readings, and
the partners' month of photos against their quotas."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from recognition.corrections import corrections_summary
from recognition.version_compare import versions_compare, versions_read
from webapp.ops import health, partners, selectors
from webapp.ops.forms import CompareForm
from webapp.ops.metrics import exposition
from webapp.ops.partners_charts import partners_charts
from webapp.partners.usage import month_parse


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    results = health.run_checks()
    ok = all(r.status != "fail" for r in results)
    body = {
        "status": "ok" if ok else "fail",
        "checks": {
            r.name: {"status": r.status, "detail": r.detail, "ms": round(r.ms, 1)} for r in results
        },
    }
    return JsonResponse(body, status=200 if ok else 503)


def _metrics_allowed(request: HttpRequest) -> bool:
    user = request.user
    if user.is_authenticated and user.is_staff:
        return True
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_ADDRESSES


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        raise PermissionDenied("Metrics are for staff and the monitoring server's address.")
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)


@require_GET
@staff_member_required
def model_versions(request: HttpRequest) -> HttpResponse:
    context = {"page": selectors.model_versions()}
    return render(request, "ops/model_versions.html", context)


@require_GET
@staff_member_required
def model_compare(request: HttpRequest) -> HttpResponse:
    """Two engine versions on the photos both read: `?base=&candidate=`, either left out
    standing for the latest version to read and the one before it."""
    versions = versions_read()
    form = CompareForm(request.GET, versions=versions)
    comparison = None
    if len(versions) >= 2 and form.is_valid():
        pair = {name: form.cleaned_data[name] for name in ("base", "candidate")}
        comparison = versions_compare(**pair)
        form = CompareForm(initial=pair, versions=versions)  # shows the versions compared
    context = {"form": form, "comparison": comparison, "versions": versions}
    return render(request, "ops/model_compare.html", context)


@require_GET
@staff_member_required
def model_corrections(request: HttpRequest) -> HttpResponse:
    """Per engine version, how moderators corrected its readings, and the latest corrections."""
    context = {"summary": corrections_summary()}
    return render(request, "ops/model_corrections.html", context)


@require_GET
@staff_member_required
def partners_overview(request: HttpRequest) -> HttpResponse:
    """Each partner's photos this month (`?month=YYYY-MM`) against its quota, its tokens and
    webhook endpoints, and every partner's photos a day."""
    month, error = _month(request.GET.get("month", ""))
    page = partners.partners_page(month=month)
    context = {"page": page, "charts": partners_charts(page), "month_error": error}
    return render(request, "ops/partners.html", context, status=400 if error else 200)


def _month(text: str) -> tuple[dt.date | None, bool]:
    """The month `YYYY-MM` names, or (None, True) when it names none."""
    if not text:
        return None, False
    try:
        return month_parse(text), False
    except ValueError:
        return None, True
