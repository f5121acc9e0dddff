"""Operator pages: live passages, a gate's access list, device status, sites and visits."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from recognition.pipeline.regions import normalise_plate
from recognition.selectors import characters_read
from registry.spreadsheet import csv_lines
from webapp.charts import Series, line_chart
from webapp.filters import day_start, filtered_csv_response
from webapp.gates import audit, commands, selectors, services, stays, visits
from webapp.gates.forms import (
    AccessEntryForm,
    AuditFilterForm,
    CsvImportForm,
    PassageFilterForm,
    VisitFilterForm,
)
from webapp.gates.models import Frame, Gate, Passage, Site
from webapp.gates.operators import is_gate_operator
from webapp.paging import page_number

View = Callable[..., HttpResponse]


def operator_required(view: View) -> View:
    """Staff and members of the Gate operators group; others are sent to log in or get a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_gate_operator(user):
            raise PermissionDenied(gettext("The gate pages are for gate operators."))
        return view(request, *args, **kwargs)

    return wrapper


@operator_required
@require_GET
def passages_live(request: HttpRequest) -> HttpResponse:
    """The passages, newest first: live (refreshed) with no filter, or searched by plate, gate,
    decision and days, a page at a time."""
    params = request.GET.copy()
    params.pop("page", None)
    form = PassageFilterForm(params or None)
    number = page_number(request)
    page = selectors.passages_page(filters=form.filters(), page=number)
    rows = [
        {
            "passage": row.passage,
            "frame": row.frame,
            "images_gone": _images_gone(row.passage, row.frame),
            "points": _points(row.frame),
            "record": row.record,
        }
        for row in page.rows
    ]
    context = {
        "rows": rows,
        "page": page,
        "form": form,
        "querystring": params.urlencode(),
        "live": not params and page.number == 1,  # only the unfiltered first page refreshes
        "gates": _gates(),
    }
    return render(request, "gates/passages.html", context, status=400 if form.errors else 200)


@operator_required
@require_GET
def passage_detail(request: HttpRequest, passage_id: int) -> HttpResponse:
    """One passage: each frame with what it read (its unsure characters marked) and the answer
    the gate gave after it, the register's record, the stay, the plate's earlier passages."""
    try:
        detail = selectors.passage_detail(passage_id=passage_id, frames_page=page_number(request))
    except Passage.DoesNotExist:
        raise Http404("no such passage") from None
    passage = detail.passage
    frames = [
        {
            "frame": frame,
            "points": _points(frame),
            "characters": characters_read(
                text=frame.plate_text,
                confidences=frame.char_confidences or [],
            ),
        }
        for frame in detail.frames
    ]
    context = {
        "detail": detail,
        "passage": passage,
        "frames": frames,
        # Some frames purged, some kept (a passage across retention's cutoff); none kept says
        # `images_gone`.
        "frames_purged": (
            max(0, passage.frames_count - detail.frames_kept) if detail.frames_kept else 0
        ),
        "images_gone": _images_gone(passage, detail.frames[0] if detail.frames else None),
        "gates": _gates(),
    }
    return render(request, "gates/passage.html", context)


def _points(frame: Frame | None) -> str:
    """The plate's corners on the frame, as an SVG polygon's points."""
    return " ".join(f"{x:.0f},{y:.0f}" for x, y in (frame.corners if frame else []))


@operator_required
@require_GET
def passages_export(request: HttpRequest) -> HttpResponse:
    return filtered_csv_response(
        PassageFilterForm(request.GET or None),
        selectors.passages_csv_rows,
        name="gate-passages",
        at=timezone.localtime(),
    )


def _images_gone(passage: Passage, frame: Frame | None) -> str:
    """Why a passage that had frames shows none: the retention purge (webapp/ops/retention.py)
    deletes frames, never their passage."""
    if frame is not None or not passage.frames_count:
        return ""
    days = settings.GATE_FRAME_RETENTION_DAYS
    if days:
        return ngettext(
            "Images purged after %(days)d day", "Images purged after %(days)d days", days
        ) % {"days": days}
    return gettext("Images deleted")


@operator_required
@require_GET
# A frame's image never changes: the live page, reloaded every 5 seconds, would otherwise fetch
# every frame on it again each time. Private: only operators may see it.
@cache_control(private=True, max_age=3600)
def frame_image(request: HttpRequest, frame_id: int) -> FileResponse:
    return FileResponse(_frame_file(frame_id), content_type="image/jpeg")


def _frame_file(frame_id: int) -> File:
    """The frame's image, open; a 404 once it is purged (between the page and this request its
    row goes first) or lost on disk."""
    frame = get_object_or_404(Frame, pk=frame_id)
    try:
        return frame.image.open("rb")
    except FileNotFoundError:
        raise Http404("the frame's image is no longer kept") from None


# The live page draws each frame 240 px wide: twice that for high-density screens.
THUMB_WIDTH = 480


@operator_required
@require_GET
@cache_control(private=True, max_age=3600)
def frame_thumb(request: HttpRequest, frame_id: int) -> HttpResponse:
    """A frame at most THUMB_WIDTH px wide, for the live page: a quarter to a ninth of the
    bytes of the 1280 x 720 frame, fifty times over on each page."""
    try:
        with _frame_file(frame_id) as handle, Image.open(handle) as image:
            image.draft("RGB", (THUMB_WIDTH, THUMB_WIDTH))  # JPEG: decoded at 1/2, 1/4 or 1/8
            image.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except (OSError, Image.DecompressionBombError):  # Pillow's UnidentifiedImageError too
        raise Http404("the frame's image cannot be read") from None
    return HttpResponse(out.getvalue(), content_type="image/jpeg")


@operator_required
def access_list(request: HttpRequest, gate_id: int) -> HttpResponse:
    gate = get_object_or_404(Gate, pk=gate_id)
    # `?plate=`: a refused passage's page sends the operator here with its plate filled in.
    initial = {"plate": normalise_plate(request.GET.get("plate", ""))[:16]}
    form = AccessEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.access_entry_add(
                gate=gate, added_by=request.user, via=audit.VIA_PAGE, **form.cleaned_data
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, gettext("%(plate)s added") % {"plate": form.cleaned_data["plate"]}
            )
            return redirect("gates:access_list", gate_id=gate.pk)
    return render(
        request,
        "gates/access_list.html",
        {
            "gate": gate,
            "entries": gate.access_entries.select_related("added_by"),
            "form": form,
            "import_form": CsvImportForm(),
            "recent_commands": [
                {"command": c, "state": commands.command_state(c)}
                for c in commands.commands_recent(gate=gate)
            ],
            "command_ttl_s": settings.GATE_COMMAND_TTL_S,
            "gates": _gates(),
        },
    )


@operator_required
@require_POST
def access_entry_delete(request: HttpRequest, gate_id: int, entry_id: int) -> HttpResponse:
    gate = get_object_or_404(Gate, pk=gate_id)
    services.access_entry_delete(gate=gate, entry_id=entry_id, by=request.user, via=audit.VIA_PAGE)
    return redirect("gates:access_list", gate_id=gate.pk)


@operator_required
@require_POST
def gate_open(request: HttpRequest, gate_id: int) -> HttpResponse:
    """An operator orders the barrier open (the gate's device takes the order on its next poll)."""
    gate = get_object_or_404(Gate, pk=gate_id)
    try:
        commands.command_open(
            gate=gate, by=request.user, reason=request.POST.get("reason", ""), via=audit.VIA_PAGE
        )
    except ValueError as exc:
        messages.error(request, gettext("Not opened: %(error)s") % {"error": exc})
    else:
        messages.success(
            request, gettext("Opening %(gate)s: sent to its device.") % {"gate": gate.name}
        )
    return redirect("gates:access_list", gate_id=gate.pk)


@operator_required
@require_POST
def access_import(request: HttpRequest, gate_id: int) -> HttpResponse:
    gate = get_object_or_404(Gate, pk=gate_id)
    form = CsvImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, gettext("choose a CSV file"))
        return redirect("gates:access_list", gate_id=gate.pk)
    try:
        data = form.cleaned_data["file"].read().decode("utf-8-sig")
        count = services.access_csv_import(gate=gate, data=data, added_by=request.user)
    except UnicodeDecodeError:
        messages.error(request, gettext("nothing imported: the file is not UTF-8 text"))
    except ValueError as exc:  # its text is in the page's language (services)
        messages.error(request, gettext("nothing imported: %(error)s") % {"error": exc})
    else:
        messages.success(
            request,
            ngettext("%(count)d entry imported", "%(count)d entries imported", count)
            % {"count": count},
        )
    return redirect("gates:access_list", gate_id=gate.pk)


@operator_required
def access_export(request: HttpRequest, gate_id: int) -> HttpResponse:
    gate = get_object_or_404(Gate, pk=gate_id)
    response = HttpResponse(selectors.access_csv_export(gate=gate), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="access-{gate.name}.csv"'
    return response


@operator_required
def devices(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "gates/devices.html",
        {"statuses": selectors.device_statuses(), "gates": _gates()},
    )


@operator_required
def sites(request: HttpRequest) -> HttpResponse:
    return render(
        request, "gates/sites.html", {"statuses": stays.site_statuses(), "gates": _gates()}
    )


@operator_required
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = get_object_or_404(Site, pk=site_id)
    form = VisitFilterForm(request.GET or None)
    plate = form.cleaned_data["plate"] if form.is_valid() else ""
    inside = stays.site_stays_inside(site=site)
    return render(
        request,
        "gates/site.html",
        {
            "site": site,
            "form": form,
            "inside": inside,
            "status": stays.SiteStatus(
                site=site,
                inside=len(inside),
                overstaying=sum(stay.overstaying for stay in inside),
            ),
            "visits": stays.site_visits(site=site, plate=plate),
            "occupancy": _occupancy(site),
            "gates": _gates(),
        },
    )


def _occupancy(site: Site) -> dict[str, object]:
    """The site's last days, hour by hour, drawn (the most vehicles on site at once, beside its
    spaces), with the busiest hour in words for those who do not see the chart."""
    occupancy = stays.site_occupancy(site=site)
    labels = [date_format(h, "D d") for h in occupancy.hours]  # named at each midnight
    series = [Series(gettext("vehicles on site, most at once"), occupancy.most, "s1")]
    if site.capacity:
        series.append(Series(gettext("spaces"), [site.capacity] * len(labels), "s2", dots=False))
    peak = max(occupancy.most, default=0)
    busiest = occupancy.hours[occupancy.most.index(peak)] if peak else None
    chart = line_chart(
        labels=labels,
        series=series,
        title=gettext("Vehicles on site, each hour of the last %(days)d days")
        % {"days": stays.OCCUPANCY_DAYS},
        ticks=[i for i, h in enumerate(occupancy.hours) if h.hour == 0],
    )
    # Generated by our own code with every label escaped in webapp/charts.py.
    return {"chart": mark_safe(chart), "peak": peak, "busiest": busiest}  # noqa: S308


@operator_required
@require_POST
def visit_close(request: HttpRequest, site_id: int, visit_id: int) -> HttpResponse:
    site = get_object_or_404(Site, pk=site_id)
    try:
        visit = visits.visit_close(
            site=site, visit_id=visit_id, user=request.user, via=audit.VIA_PAGE
        )
    except visits.NotOnSite:
        messages.error(request, gettext("Nothing changed: that vehicle is no longer on site."))
    else:
        messages.success(
            request, gettext("%(plate)s is no longer on site.") % {"plate": visit.plate}
        )
    return redirect("gates:site", site_id=site.pk)


@operator_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who changed who may pass, and how; and who took which vehicle off a site by hand."""
    params = request.GET.copy()
    params.pop("page", None)
    form = AuditFilterForm(params or None)
    number = page_number(request)
    page = selectors.audit_page(filters=form.filters(), page=number)
    context = {"form": form, "page": page, "querystring": params.urlencode(), "gates": _gates()}
    return render(request, "gates/audit.html", context, status=400 if form.errors else 200)


@operator_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    return filtered_csv_response(
        AuditFilterForm(request.GET or None),
        selectors.audit_csv_rows,
        name="gate-audit",
        at=timezone.localtime(),
    )


@operator_required
def site_visits_export(request: HttpRequest, site_id: int) -> StreamingHttpResponse:
    site = get_object_or_404(Site, pk=site_id)
    form = VisitFilterForm(request.GET or None)
    since = form.cleaned_data.get("since") if form.is_valid() else None
    rows = stays.site_visits_csv(site=site, since=day_start(since) if since else None)
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="visits-{site.pk}.csv"'
    return response


def _gates() -> QuerySet[Gate]:
    return Gate.objects.all()
