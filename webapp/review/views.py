"""Thin views: parse the request, call a selector or a service, render or redirect."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from recognition.models import Reading
from recognition.pipeline import redact
from recognition.redaction import NotRedactable
from recognition.redaction import photo_redacted as photo_redacted_copy
from webapp.checks.models import Flag
from webapp.listings.models import Photo
from webapp.paging import page_number
from webapp.review import crop, dashboard, holds, selectors, services
from webapp.review.forms import BulkForm, CorrectPlateForm, DecisionForm, QueueFilterForm
from webapp.review.permissions import moderator_required

logger = logging.getLogger(__name__)


def _filter_form(request: HttpRequest) -> QueueFilterForm:
    params = request.GET.copy()
    params.pop("page", None)
    return QueueFilterForm(params)


def _querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _flag_url(flag_id: int, querystring: str) -> str:
    url = reverse("review:flag", args=[flag_id])
    return f"{url}?{querystring}" if querystring else url


def _queue_url(querystring: str) -> str:
    url = reverse("review:queue")
    return f"{url}?{querystring}" if querystring else url


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_GET
@moderator_required
def queue(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    page = page_number(request)
    # Back at the queue, a moderator no longer has a flag in front of them.
    holds.holds_release(user=request.user)
    result = selectors.flag_queue(filters=form.filters(), page=page)
    held = holds.holds_of([f.pk for f in result.flags], user=request.user)
    for flag in result.flags:
        flag.held_by = held.get(flag.pk)  # another moderator's hold, shown on the row
    without_kind = request.GET.copy()
    without_kind.pop("page", None)
    without_kind.pop("kind", None)
    without_sort = request.GET.copy()
    without_sort.pop("page", None)
    without_sort.pop("sort", None)
    kept = _kept_selection(request)
    return render(
        request,
        "review/queue.html",
        {
            "form": form,
            "page": result,
            "querystring": _querystring(request),
            "kind_querystring": without_kind.urlencode(),
            "sort_querystring": without_sort.urlencode(),
            "sort": form.filters().sort,
            "sort_columns": SORT_COLUMNS,
            "kept_flags": set(kept["flags"]),
            "kept_reason": kept["reason"],
        },
    )


KEPT_SESSION_KEY = "review:kept-selection"
SORT_COLUMNS = [
    ("severity", pgettext_lazy("severity, short", "Sev.")),
    ("kind", _("Kind")),
    ("plate", _("Plate")),
    ("format", _("Format")),
    ("listing", _("Listing")),
    ("opened", _("Opened")),
    ("status", _("Status")),
]


def _keep_selection(request: HttpRequest, *, flag_ids: list[int], reason: str) -> None:
    """Remember the ticked rows and the typed reason across the redirect after an error."""
    request.session[KEPT_SESSION_KEY] = {"flags": flag_ids[:500], "reason": reason[:500]}


def _keep_typed(request: HttpRequest, flag_id: int) -> None:
    """Remember what was typed on the flag page (reason, plate, photo) across the redirect."""
    request.session[f"review:kept-form:{flag_id}"] = {
        name: request.POST.get(name, "")[:200] for name in ("reason", "plate_text", "photo_id")
    }


def _kept_typed(request: HttpRequest, flag_id: int) -> dict:
    return request.session.pop(f"review:kept-form:{flag_id}", None) or {}


def _kept_selection(request: HttpRequest) -> dict:
    return request.session.pop(KEPT_SESSION_KEY, None) or {"flags": [], "reason": ""}


def _bulk_status(form: BulkForm) -> str:
    if form.cleaned_data["decision"] == "confirm":
        return Flag.Status.CONFIRMED
    return Flag.Status.DISMISSED


def _report_bulk(request: HttpRequest, result: services.BulkResult, status: str) -> None:
    if result.decided:
        count = len(result.decided)
        if status == Flag.Status.CONFIRMED:
            # English keeps its "flag(s)"; ngettext gives Ukrainian its three plural forms.
            text = ngettext("%(count)d flag(s) confirmed.", "%(count)d flag(s) confirmed.", count)
        else:
            text = ngettext("%(count)d flag(s) dismissed.", "%(count)d flag(s) dismissed.", count)
        messages.success(request, text % {"count": count})
    for conflict in result.conflicts:
        messages.error(request, str(conflict))
    if result.held:
        count = len(result.held)
        text = ngettext(
            "%(count)d flag was left undecided: another moderator has it open (%(who)s).",
            "%(count)d flags were left undecided: other moderators have them open (%(who)s).",
            count,
        )
        who = ", ".join(sorted({hold.username for hold in result.held}))
        messages.warning(request, text % {"count": count, "who": who})


def _bulk_matching(
    request: HttpRequest, form: BulkForm, status: str, querystring: str
) -> HttpResponse:
    """Every flag the queue's filters match: a confirmation page with the count first."""
    back = _queue_url(querystring)
    filters = QueueFilterForm(QueryDict(querystring)).filters()
    total = selectors.flag_count_matching(filters=filters, user=request.user)
    reason = form.cleaned_data["reason"]
    if status == Flag.Status.DISMISSED and not reason.strip():
        messages.error(request, gettext("Give a reason for dismissing the flags."))
        return HttpResponseRedirect(back)
    if total > services.BULK_FILTER_MAX_FLAGS:
        messages.error(
            request,
            gettext(
                "%(total)d flags match; narrow the filter to at most %(max)d for one bulk decision."
            )
            % {"total": total, "max": services.BULK_FILTER_MAX_FLAGS},
        )
        return HttpResponseRedirect(back)
    agreed = form.cleaned_data["confirm_total"]
    if agreed != total:
        if agreed is not None:
            messages.warning(
                request,
                gettext("The number of matching flags changed to %(total)d.") % {"total": total},
            )
        context = {
            "total": total,
            "decision": form.cleaned_data["decision"],
            "reason": reason,
            "querystring": querystring,
            "queue_url": back,
            "held": selectors.flag_count_matching(filters=filters) - total,
        }
        return render(request, "review/bulk_confirm.html", context)
    pairs = selectors.flag_ids_matching(
        filters=filters, limit=services.BULK_FILTER_MAX_FLAGS, user=request.user
    )
    try:
        result = services.flags_bulk_decide(
            flags=pairs,
            user=request.user,
            status=status,
            reason=reason,
            max_flags=services.BULK_FILTER_MAX_FLAGS,
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return HttpResponseRedirect(back)
    _report_bulk(request, result, status)
    return HttpResponseRedirect(back)


@require_POST
@moderator_required
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    querystring = request.POST.get("querystring", "")
    back = _queue_url(querystring)
    pairs = form.pairs(request.POST)
    if not form.is_valid():
        _keep_selection(
            request, flag_ids=[i for i, _ in pairs], reason=request.POST.get("reason", "")
        )
        messages.error(request, gettext("Choose confirm or dismiss."))
        return HttpResponseRedirect(back)
    status = _bulk_status(form)
    if form.cleaned_data["scope"] == "filter":
        return _bulk_matching(request, form, status, querystring)
    if not pairs:
        messages.warning(request, gettext("Select at least one flag."))
        return HttpResponseRedirect(back)
    try:
        result = services.flags_bulk_decide(
            flags=pairs, user=request.user, status=status, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        _keep_selection(request, flag_ids=[i for i, _ in pairs], reason=form.cleaned_data["reason"])
        messages.error(request, _error_text(error))
        return HttpResponseRedirect(back)
    _report_bulk(request, result, status)
    return HttpResponseRedirect(back)


def _history_plate(detail: selectors.FlagDetail) -> str:
    """The plate whose history page the flag page links to; "" when there is none."""
    plate = (
        detail.flag.plate_text
        or (detail.plates_seen[0] if detail.plates_seen else "")
        or detail.flag.listing.declared_plate
    )
    return plate if sum(ch.isalnum() for ch in plate) >= 4 else ""


@require_GET
@moderator_required
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    try:
        detail = selectors.flag_detail(flag_id=flag_id)
    except Flag.DoesNotExist as exc:
        raise Http404("No such flag.") from exc
    hold = holds.flag_hold(flag=detail.flag, user=request.user)
    form = _filter_form(request)
    prev_id, next_id = selectors.flag_neighbours(
        flag=detail.flag, filters=form.filters(), user=request.user
    )
    querystring = _querystring(request)
    return render(
        request,
        "review/detail.html",
        {
            "d": detail,
            "flag": detail.flag,
            "history_plate": _history_plate(detail),
            "hold": hold,
            "hold_message": _hold_text(hold) if hold and not hold.mine else "",
            "kept": _kept_typed(request, flag_id),
            "listing": detail.flag.listing,
            "querystring": querystring,
            "prev_url": _flag_url(prev_id, querystring) if prev_id else "",
            "next_url": _flag_url(next_id, querystring) if next_id else "",
            "queue_url": _queue_url(querystring),
        },
    )


def _after_decision(request: HttpRequest, flag: Flag) -> str:
    """Where a decided flag sends the moderator: the next flag of the same queue view."""
    querystring = _querystring(request)
    _prev, next_id = selectors.flag_neighbours(
        flag=flag, filters=_filter_form(request).filters(), user=request.user
    )
    return _flag_url(next_id, querystring) if next_id else _queue_url(querystring)


def _conflict_redirect(
    request: HttpRequest, conflict: services.FlagConflict, here: str
) -> HttpResponse:
    """Back to the flag to see its new state, or to the queue when the flag is gone (a re-run of
    the cross-check deletes an open flag whose finding disappeared)."""
    messages.error(request, str(conflict))
    if conflict.current is None:
        return HttpResponseRedirect(_queue_url(_querystring(request)))
    return HttpResponseRedirect(here)


@require_POST
@moderator_required
def flag_decide(request: HttpRequest, flag_id: int, decision: str) -> HttpResponse:
    here = _flag_url(flag_id, _querystring(request))
    flag = Flag.objects.defer("evidence").filter(pk=flag_id).first()
    if flag is None:
        return _conflict_redirect(request, services.FlagConflict(None), here)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Missing flag version.")
    args = {"flag_id": flag_id, "version": form.cleaned_data["version"], "user": request.user}
    reason = form.cleaned_data["reason"]
    destination = _after_decision(request, flag)
    try:
        if decision == "confirm":
            services.flag_confirm(**args, note=reason)
        else:
            services.flag_dismiss(**args, reason=reason)
    except services.FlagConflict as conflict:
        return _conflict_redirect(request, conflict, here)
    except ValidationError as error:
        _keep_typed(request, flag_id)
        messages.error(request, _error_text(error))
        return HttpResponseRedirect(here)
    if decision == "confirm":
        text = gettext('Flag <a href="{}">#{}</a> confirmed.')
    else:
        text = gettext('Flag <a href="{}">#{}</a> dismissed.')
    messages.success(request, format_html(text, here, flag_id))
    return HttpResponseRedirect(destination)


def _hold_text(hold: holds.Hold) -> str:
    return gettext(
        "%(who)s has had this flag open since %(since)s: other moderators' Next passes it by "
        "until %(until)s. You may still decide it; whoever decides first wins."
    ) % {
        "who": hold.username,
        "since": timezone.localtime(hold.since).strftime("%H:%M"),
        "until": timezone.localtime(hold.until).strftime("%H:%M"),
    }


@require_POST
@moderator_required
def flag_hold_renew(request: HttpRequest, flag_id: int) -> JsonResponse:
    """The flag's open page renews its hold (every minute, from review.js): the hold now, and
    the text the page shows when another moderator has it."""
    flag = get_object_or_404(Flag.objects.only("id", "status"), pk=flag_id)
    hold = holds.flag_hold(flag=flag, user=request.user)
    if hold is None:
        return JsonResponse({"held": False, "mine": False, "message": ""})
    return JsonResponse(
        {
            "held": True,
            "mine": hold.mine,
            "user": hold.username,
            "until": hold.until.isoformat(),
            "message": "" if hold.mine else _hold_text(hold),
        }
    )


@require_POST
@moderator_required
def flag_correct(request: HttpRequest, flag_id: int) -> HttpResponse:
    here = _flag_url(flag_id, _querystring(request))
    form = CorrectPlateForm(request.POST)
    if not form.is_valid():
        _keep_typed(request, flag_id)
        messages.error(request, gettext("Type the plate text and pick the photo it is on."))
        return HttpResponseRedirect(here)
    data = form.cleaned_data
    try:
        correction = services.flag_correct_plate(
            flag_id=flag_id,
            version=data["version"],
            user=request.user,
            photo_id=data["photo_id"],
            plate_text=data["plate_text"],
            base_reading_id=data["base_reading_id"],
        )
    except services.FlagConflict as conflict:
        return _conflict_redirect(request, conflict, here)
    except ValidationError as error:
        _keep_typed(request, flag_id)
        messages.error(request, _error_text(error))
        return HttpResponseRedirect(here)
    summary = ", ".join(
        f"{f.get_kind_display()} ({f.get_status_display().lower()})" for f in correction.flags
    )
    messages.success(
        request,
        gettext("Plate corrected to %(plate)s; cross-check re-run: %(flags)s")
        % {
            "plate": correction.plate_text,
            "flags": summary or gettext("no flags on this listing now."),
        },
    )
    if Flag.objects.filter(pk=flag_id).exists():
        return HttpResponseRedirect(here)
    return HttpResponseRedirect(_queue_url(_querystring(request)))


@require_GET
@moderator_required
@cache_control(private=True, max_age=3600)
def plate_crop(request: HttpRequest, reading_id: int) -> HttpResponse:
    try:
        reading = selectors.reading_for_crop(reading_id=reading_id)
    except Reading.DoesNotExist as exc:
        raise Http404("No such reading.") from exc
    try:
        with reading.photo.image.open("rb") as handle:
            data = handle.read(crop.MAX_PHOTO_BYTES)
        png = crop.plate_crop_png(photo_bytes=data, corners=reading.corners)
    except (OSError, ValueError) as exc:
        logger.warning("no plate crop for reading %s: %s", reading_id, exc)
        raise Http404("No crop for this reading.") from exc
    return HttpResponse(png, content_type="image/png")


@require_GET
@moderator_required
@cache_control(private=True, max_age=3600)
def photo_image(request: HttpRequest, photo_id: int) -> HttpResponse:
    photo = get_object_or_404(Photo, pk=photo_id)
    try:
        handle = photo.image.open("rb")
    except OSError as exc:
        raise Http404("The photo file is missing.") from exc
    return FileResponse(handle)


@require_GET
@moderator_required
@cache_control(private=True, max_age=3600)
def photo_redacted(request: HttpRequest, photo_id: int) -> HttpResponse:
    """The photo as the marketplace would publish it: its plates hidden (the partner API's
    `photos/<id>/redacted/`, for moderators)."""
    photo = get_object_or_404(Photo, pk=photo_id)
    style = request.GET.get("style", "blur")
    if style not in redact.STYLES:
        return HttpResponseBadRequest(gettext("Unknown style."))
    try:
        copy = photo_redacted_copy(photo, style=style)
    except NotRedactable as exc:
        return HttpResponse(exc.detail, status=409, content_type="text/plain; charset=utf-8")
    except OSError as exc:
        raise Http404("The photo file is missing.") from exc
    response = HttpResponse(copy.data, content_type=copy.content_type)
    response["Content-Disposition"] = f'inline; filename="{copy.filename}"'
    return response


@require_GET
@moderator_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    try:
        days = min(max(int(request.GET.get("days", "30")), 7), 365)
    except ValueError:
        days = 30
    stats = selectors.dashboard_stats(days=days)
    return render(
        request,
        "review/dashboard.html",
        {"stats": stats, "charts": dashboard.charts(stats), "days": days},
    )
