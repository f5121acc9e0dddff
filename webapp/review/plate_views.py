"""Plate search and a plate's history page (thin: a form, a selector, a template)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from webapp.gates.operators import is_gate_operator
from webapp.review.forms import PlateSearchForm
from webapp.review.permissions import moderator_required
from webapp.review.selectors.history import plate_history
from webapp.review.selectors.search import SearchError, plate_search


@require_GET
@moderator_required
def plate_search_view(request: HttpRequest) -> HttpResponse:
    form = PlateSearchForm(request.GET)
    q = form.data.get("q", "").strip() if form.is_valid() else ""
    result, error = None, ""
    if not form.is_valid():  # say why, as the API does, instead of an empty page
        error = " ".join(form.errors.get("q", [])) or gettext("This search cannot be run.")
    elif q:
        try:
            result = plate_search(q=q)
        except SearchError as exc:
            error = str(exc)
    status = 400 if error else 200
    context = {"form": form, "q": q, "result": result, "error": error}
    return render(request, "review/plate_search.html", context, status=status)


@require_GET
@moderator_required
def plate_history_view(request: HttpRequest, plate: str) -> HttpResponse:
    try:
        history = plate_history(plate=plate)
    except SearchError as exc:
        return render(
            request, "review/plate_search.html", {"q": plate, "error": str(exc)}, status=400
        )
    # A gate operator opens each passage's own page (its frames); other moderators may not.
    context = {"h": history, "gate_operator": is_gate_operator(request.user)}
    return render(request, "review/plate_history.html", context)
