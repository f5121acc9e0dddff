"""Operator pages: live passages, a gate's access list, device status."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from webapp.gates import selectors, services
from webapp.gates.forms import AccessEntryForm, CsvImportForm
from webapp.gates.models import Frame, Gate, Passage

OPERATORS_GROUP = "Gate operators"
View = Callable[..., HttpResponse]


def operator_required(view: View) -> View:
    """Staff and members of the Gate operators group; others are sent to log in or get a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_staff or user.groups.filter(name=OPERATORS_GROUP).exists()):
            raise PermissionDenied(gettext("The gate pages are for gate operators."))
        return view(request, *args, **kwargs)

    return wrapper


@operator_required
def passages_live(request: HttpRequest) -> HttpResponse:
    rows = []
    for passage in selectors.passages_recent(limit=50):
        frame = passage.frames.order_by("-confidence", "-id").first()
        rows.append(
            {
                "passage": passage,
                "frame": frame,
                "images_gone": _images_gone(passage, frame),
                "points": " ".join(f"{x:.0f},{y:.0f}" for x, y in (frame.corners if frame else [])),
                "record": selectors.passage_register_record(passage=passage),
            }
        )
    return render(request, "gates/passages.html", {"rows": rows, "gates": Gate.objects.all()})


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
def frame_image(request: HttpRequest, frame_id: int) -> FileResponse:
    frame = get_object_or_404(Frame, pk=frame_id)
    try:
        return FileResponse(frame.image.open("rb"), content_type="image/jpeg")
    except FileNotFoundError:
        # Purged between the page and this request (its row goes first), or lost on disk.
        raise Http404("the frame's image is no longer kept") from None


@operator_required
def access_list(request: HttpRequest, gate_id: int) -> HttpResponse:
    gate = get_object_or_404(Gate, pk=gate_id)
    form = AccessEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.access_entry_add(gate=gate, added_by=request.user, **form.cleaned_data)
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
        },
    )


@operator_required
@require_POST
def access_entry_delete(request: HttpRequest, gate_id: int, entry_id: int) -> HttpResponse:
    gate = get_object_or_404(Gate, pk=gate_id)
    services.access_entry_delete(gate=gate, entry_id=entry_id)
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
    except (UnicodeDecodeError, ValueError) as exc:
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
    return render(request, "gates/devices.html", {"statuses": selectors.device_statuses()})
