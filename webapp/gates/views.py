"""HTTP adapters: the device endpoints (signed, JSON) and the operator pages."""

from __future__ import annotations

import io
import logging
import re
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps

import numpy as np
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt
from PIL import Image

from recognition.pipeline.images import rgb_array
from webapp.celery import app as celery_app
from webapp.gates import auth, commands, passages, selectors, services, signing
from webapp.gates.auth import Refusal
from webapp.gates.models import Device, Frame
from webapp.storage import RETRY_AFTER_S

logger = logging.getLogger(__name__)

_FRAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# How long the device's queue may hold a frame before the server calls its time implausible.
QUEUED_FRAME_MAX_AGE = timedelta(days=7)
DeviceEndpoint = Callable[[HttpRequest], JsonResponse]
# How often the web request looks at the frame's row while the gates worker reads it.
POLL_INTERVAL_S = 0.01


def _refused(
    request: HttpRequest, refusal: Refusal, device: Device | None, size: int
) -> JsonResponse:
    services.device_request_audit(
        device=device,
        claimed_device_id=request.headers.get(signing.HEADER_DEVICE, ""),
        method=request.method or "",
        path=request.get_full_path(),
        address=request.META.get("REMOTE_ADDR"),
        body_bytes=size,
        code=refusal.code,
        reason=refusal.detail,
    )
    logger.info("gate request refused: %s", refusal)
    return refusal_response(refusal)


def refusal_response(refusal: Refusal) -> JsonResponse:
    """The refusal as the device reads it: `{"detail", "code"}` (and `server_time`)."""
    answer: dict[str, object] = {"detail": refusal.detail, "code": refusal.code}
    if refusal.server_time is not None:
        answer["server_time"] = refusal.server_time
    return JsonResponse(answer, status=refusal.status)


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.GATE_FRAME_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refusal(400, "bad_length", "Content-Length is not a number") from None
    if declared > limit:
        raise Refusal(413, "body_too_large", f"{declared} bytes; at most {limit}")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refusal(413, "body_too_large", f"more than {limit} bytes")
    return body


def _authenticate(request: HttpRequest, body_needed: bool) -> tuple[Device, bytes]:
    signed = auth.signed_request_from(
        method=request.method or "", path=request.get_full_path(), headers=request.headers
    )
    device = auth.device_for(signed=signed)
    request._gate_device = device  # type: ignore[attr-defined]  # for the audit of a refusal
    auth.device_active_check(device=device)
    auth.timestamp_check(signed=signed)
    body = _read_body(request) if body_needed else b""
    request._gate_size = len(body)  # type: ignore[attr-defined]
    auth.signature_check(signed=signed, device=device, body=body)
    auth.nonce_spend(signed=signed)
    return device, body


def _decode_jpeg(request: HttpRequest, body: bytes) -> np.ndarray:
    content_type = request.content_type or ""
    if content_type != "image/jpeg" or not body.startswith(b"\xff\xd8\xff"):
        raise Refusal(415, "unsupported_type", f"frames must be image/jpeg, got {content_type!r}")
    try:
        with _open_frame(body) as image:
            if image.format != "JPEG":
                raise Refusal(415, "unsupported_type", f"body is {image.format}, not JPEG")
            if image.width * image.height > settings.GATE_FRAME_MAX_PIXELS:
                raise Refusal(413, "too_many_pixels", f"{image.width}x{image.height} frame")
            return rgb_array(image)
    except Refusal:
        raise
    except Exception as exc:  # Pillow raises many types for broken files (as uploads find)
        raise Refusal(400, "corrupt_image", f"cannot decode the JPEG: {exc}") from None


def _open_frame(body: bytes) -> Image.Image:
    """The frame's header, read. Pillow refuses a header of over twice its own pixel limit with
    an exception of its own (neither an OSError nor a warning): that is a frame too large."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit; GATE_FRAME_MAX_PIXELS is checked right after.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(body))
    except Image.DecompressionBombError as exc:
        raise Refusal(413, "too_many_pixels", f"frame header: {exc}") from None


def _frame_params(request: HttpRequest) -> tuple[str, datetime, bool]:
    frame_id = request.GET.get("frame") or request.headers.get(signing.HEADER_NONCE, "")
    if not _FRAME_ID.match(frame_id):
        raise Refusal(400, "bad_query", "frame must be 1-64 characters of [A-Za-z0-9_-]")
    queued = request.GET.get("queued") == "1"
    raw = request.GET.get("captured_at") or request.headers.get(signing.HEADER_TIMESTAMP, "")
    try:
        captured_at = datetime.fromtimestamp(float(raw), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise Refusal(400, "bad_query", "captured_at must be unix seconds") from None
    now = timezone.now()
    if captured_at > now + timedelta(seconds=settings.GATE_CLOCK_SKEW_S) or (
        captured_at < now - QUEUED_FRAME_MAX_AGE
    ):
        raise Refusal(400, "bad_query", "captured_at is in the future or older than 7 days")
    return frame_id, captured_at, queued


def _decide(frame: Frame, pixels: np.ndarray) -> Frame:
    if celery_app.conf.task_always_eager:
        # No broker (the demo): read in this process, with the pixels already decoded.
        return passages.frame_read_and_decide(frame_id=frame.pk, pixels=pixels)
    from webapp.gates.tasks import read_gate_frame

    read_gate_frame.delay(frame.pk)
    deadline = time.monotonic() + settings.GATE_READ_TIMEOUT_S
    while time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_S)
        status = Frame.objects.filter(pk=frame.pk).values_list("status", flat=True).first()
        if status != Frame.Status.PENDING:
            break
    return Frame.objects.select_related("passage").get(pk=frame.pk)


def _accepted(
    request: HttpRequest, device: Device, size: int, code: str, frame: Frame | None
) -> None:
    # One commit for both rows: every commit is a disk flush the gate waits for.
    with transaction.atomic():
        services.device_seen(
            device=device,
            address=request.META.get("REMOTE_ADDR"),
            version=request.headers.get(signing.HEADER_VERSION, ""),
        )
        services.device_request_audit(
            device=device,
            claimed_device_id=device.device_id,
            method=request.method or "",
            path=request.get_full_path(),
            address=request.META.get("REMOTE_ADDR"),
            body_bytes=size,
            code=code,
            frame=frame,
        )


def _wrong_method(request: HttpRequest, allowed: str) -> JsonResponse:
    refusal = Refusal(405, "method_not_allowed", f"use {allowed}")
    response = _refused(request, refusal, None, 0)
    response["Allow"] = allowed
    return response


@csrf_exempt
def frame_post(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/gates/frames/: one signed JPEG in, the gate's decision out."""
    if request.method != "POST":
        return _wrong_method(request, "POST")
    try:
        device, body = _authenticate(request, body_needed=True)
        auth.rate_count(device=device, queued=request.GET.get("queued") == "1")
        pixels = _decode_jpeg(request, body)
        frame_id, captured_at, queued = _frame_params(request)
    except Refusal as refusal:
        return _refused(
            request,
            refusal,
            getattr(request, "_gate_device", None),
            getattr(request, "_gate_size", 0),
        )
    height, width = pixels.shape[:2]
    try:
        frame, created = passages.frame_store(
            device=device,
            body=body,
            width=width,
            height=height,
            client_frame_id=frame_id,
            captured_at=captured_at,
            queued=queued,
        )
    except passages.FrameNotStored:
        return _not_stored(request, device, len(body))
    if created:
        frame = _decide(frame, pixels)
    _accepted(request, device, len(body), "accepted" if created else "accepted_duplicate", frame)
    answer = passages.frame_answer(frame=Frame.objects.select_related("passage").get(pk=frame.pk))
    return JsonResponse(answer.as_json())


def _not_stored(request: HttpRequest, device: Device, size: int) -> JsonResponse:
    """503: the Pi keeps the frame in its queue, decides from its cached access list at once,
    and sends the frame again until it is stored (deploy/pi/README.md)."""
    refusal = Refusal(
        503, "storage_unavailable", "the frame could not be stored now; send it again"
    )
    response = _refused(request, refusal, device, size)
    response["Retry-After"] = str(RETRY_AFTER_S)
    # An error once, where the write failed, with the OS's reason; the request a warning, as
    # Django logs every other refusal.
    log_response(
        "%s: %s", refusal.code, request.path, response=response, request=request, level="warning"
    )
    return response


def signed_get(view: Callable[[HttpRequest, Device], JsonResponse]) -> DeviceEndpoint:
    """A device's signed GET: the view gets the device; another method gets 405, a request
    that fails the checks its audited refusal."""

    @wraps(view)
    def endpoint(request: HttpRequest) -> JsonResponse:
        if request.method != "GET":
            return _wrong_method(request, "GET")
        try:
            device, _ = _authenticate(request, body_needed=False)
        except Refusal as refusal:
            return _refused(request, refusal, getattr(request, "_gate_device", None), 0)
        return view(request, device)

    return endpoint


@signed_get
def access_list_get(request: HttpRequest, device: Device) -> JsonResponse:
    """GET /api/v1/gates/access-list/: the device's gate's list, for deciding while offline."""
    _accepted(request, device, 0, "accepted", None)
    return JsonResponse(selectors.access_list_payload(gate=device.gate))


@signed_get
def commands_get(request: HttpRequest, device: Device) -> JsonResponse:
    """GET /api/v1/gates/commands/: the orders waiting for the device's gate (an operator's
    "open now"), each handed to this device only. A device asks every few seconds, so a poll
    that takes nothing leaves no audit row (its last contact is still recorded)."""
    taken = commands.commands_take(device=device)
    if taken:
        _accepted(request, device, 0, "accepted", None)
    else:
        services.device_seen(
            device=device,
            address=request.META.get("REMOTE_ADDR"),
            version=request.headers.get(signing.HEADER_VERSION, ""),
        )
    return JsonResponse({"commands": [commands.command_payload(c) for c in taken]})


@csrf_exempt
def command_done_post(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/gates/commands/done/?command=<id>&result=opened|failed[&detail=...]: the
    device's report on an order it took (signed over an empty body; the query is signed)."""
    if request.method != "POST":
        return _wrong_method(request, "POST")
    try:
        device, _ = _authenticate(request, body_needed=True)
        try:
            command_id = int(request.GET.get("command", ""))
            command = commands.command_done(
                device=device,
                command_id=command_id,
                result=request.GET.get("result", ""),
                detail=request.GET.get("detail", ""),
            )
        except ValueError as exc:
            raise Refusal(400, "bad_query", f"command and result: {exc}") from None
        except commands.UnknownCommand as exc:
            raise Refusal(404, "unknown_command", str(exc)) from None
    except Refusal as refusal:
        return _refused(
            request,
            refusal,
            getattr(request, "_gate_device", None),
            getattr(request, "_gate_size", 0),
        )
    _accepted(request, device, 0, "accepted", None)
    return JsonResponse({"command": command.pk, "result": command.result})
