"""Writes for frames and passages: store a frame, read it with the engine, vote, decide.

`frame_read_and_decide` is the one entry point for both paths: in-process when no broker is
configured (the demo) and in the `gates` Celery task otherwise. It reads with the product's
engine (recognition.engine_loader), never a second pipeline.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from recognition.engine_loader import engine_recognize, get_engine
from recognition.pipeline.images import rgb_array
from recognition.pipeline.regions import normalise_plate
from recognition.pipeline.types import EngineUnavailable, PhotoResult
from registry.watchlist import watch_reason_for_plate
from webapp.gates import rules, selectors
from webapp.gates.events import passage_decided_emit
from webapp.gates.models import Decision, Device, Frame, Passage
from webapp.gates.visits import visit_record
from webapp.storage import file_write

logger = logging.getLogger(__name__)

# A confident reading this far (in characters) from every reading of the passage is another
# vehicle that came up within the gap: it starts its own passage, not spoiling this one's vote.
NEW_VEHICLE_DISTANCE = 3
NEW_VEHICLE_CONFIDENCE = 0.5


class FrameNotStored(Exception):
    """The media store refused the frame's file (a full disk, an I/O error, a read-only
    remount); nothing of the frame was kept."""


def frame_store(
    *,
    device: Device,
    body: bytes,
    width: int,
    height: int,
    client_frame_id: str,
    captured_at: datetime,
    queued: bool,
) -> tuple[Frame, bool]:
    """The frame's row and file; (existing frame, False) when the device resent it. Raises
    FrameNotStored, with neither row nor file left, when the file cannot be written."""
    existing = Frame.objects.filter(device=device, client_frame_id=client_frame_id).first()
    if existing is not None:
        return existing, False
    frame = Frame(
        device=device,
        client_frame_id=client_frame_id,
        width=width,
        height=height,
        captured_at=captured_at,
        received_at=timezone.now(),
        queued=queued,
    )
    try:
        file_write(file=frame.image, name=f"{client_frame_id}.jpg", content=body)
    except OSError as exc:
        # The path and the OS's words stay in the log; the device is told to send it again.
        logger.error("gate frame %s of %s not stored: %s", client_frame_id, device.device_id, exc)
        raise FrameNotStored(client_frame_id) from exc
    try:
        with transaction.atomic():
            frame.save()
    except IntegrityError:
        # The same frame sent twice at once: the other request stored it.
        frame.image.delete(save=False)
        return Frame.objects.get(device=device, client_frame_id=client_frame_id), False
    return frame, True


def _frame_pixels(frame: Frame) -> np.ndarray:
    with frame.image.open("rb") as handle:
        data = handle.read()
    with Image.open(io.BytesIO(data)) as image:
        return rgb_array(image)


def frame_read_and_decide(*, frame_id: int, pixels: np.ndarray | None = None) -> Frame:
    """`pixels`: the frame already decoded by the web request (in-process path), else the file."""
    frame = Frame.objects.select_related("device__gate").get(pk=frame_id)
    if frame.status != Frame.Status.PENDING:
        return frame  # a redelivered task: already read and voted
    started = time.perf_counter()
    try:
        image = pixels if pixels is not None else _frame_pixels(frame)
        result = engine_recognize(get_engine(), [image])[0]
    except EngineUnavailable as exc:
        return _frame_failed(frame, f"engine unavailable: {exc}"[:255])
    except (OSError, ValueError) as exc:
        return _frame_failed(frame, f"cannot read the frame: {exc}"[:255])
    _store_reading(frame, result, read_ms=(time.perf_counter() - started) * 1000)
    return passage_vote(frame=frame)


def _store_reading(frame: Frame, result: PhotoResult, *, read_ms: float) -> None:
    """On the row in memory: passage_vote saves it with the passage, in one commit."""
    best = max(result.plates, key=lambda p: p.confidence, default=None)
    frame.status = Frame.Status.DONE
    frame.read_ms = read_ms
    if best is not None:
        frame.plate_text = rules_text(best.text)
        frame.confidence = float(best.confidence)
        frame.char_confidences = [float(c) for c in best.char_confidences]
        frame.corners = [[float(x), float(y)] for x, y in best.corners]


def rules_text(text: str) -> str:
    return normalise_plate(text)[:16]


def _frame_failed(frame: Frame, error: str) -> Frame:
    logger.warning("gate frame %s not read: %s", frame.pk, error)
    frame.status = Frame.Status.FAILED
    frame.error = error
    return passage_vote(frame=frame)


def _reading(frame: Frame) -> rules.FrameReading:
    return rules.FrameReading(
        text=frame.plate_text,
        confidence=frame.confidence,
        char_confidences=tuple(frame.char_confidences or ()),
    )


def _passage_for(frame: Frame) -> Passage | None:
    """The device's open passage this frame continues, if any."""
    gate = frame.device.gate
    since = frame.captured_at - timedelta(seconds=gate.passage_gap_s)
    passage = (
        Passage.objects.select_for_update()
        .filter(device=frame.device, last_frame_at__gte=since, started_at__lte=frame.captured_at)
        .order_by("-last_frame_at", "-id")
        .first()
    )
    if passage is None or not frame.plate_text or frame.confidence < NEW_VEHICLE_CONFIDENCE:
        return passage
    seen = passage.frames.exclude(plate_text="").values_list("plate_text", flat=True)
    if seen and all(_distance(frame.plate_text, text) >= NEW_VEHICLE_DISTANCE for text in seen):
        return None
    return passage


def _distance(a: str, b: str) -> int:
    if len(a) != len(b):
        return max(len(a), len(b))
    return sum(x != y for x, y in zip(a, b, strict=True))


# Everything reading and voting writes on a frame, saved once.
_READ_FIELDS = [
    "status", "error", "read_ms", "plate_text", "confidence", "char_confidences", "corners",
    "passage", "decision",
]  # fmt: skip


def passage_vote(*, frame: Frame) -> Frame:
    """Put the frame into its passage, vote the passage's readings again and decide."""
    gate = frame.device.gate
    with transaction.atomic():
        # One device's frames are voted one at a time: two web workers must not both start
        # a passage for the same car.
        Device.objects.select_for_update().filter(pk=frame.device_id).first()
        passage = _passage_for(frame)
        if passage is None:
            passage = Passage.objects.create(
                gate=gate,
                device=frame.device,
                started_at=frame.captured_at,
                last_frame_at=frame.captured_at,
            )
        others = passage.frames.exclude(pk=frame.pk).exclude(status=Frame.Status.PENDING)
        frames = [*others, frame]
        voted = rules.vote(_reading(f) for f in frames if f.status == Frame.Status.DONE)
        verdict = rules.decide(
            voted=voted,
            frames=len(frames),
            allowed=selectors.allowed_plates(gate=gate, at=frame.captured_at),
            blocked=selectors.blocked_plates(gate=gate),
            allow_confusable=gate.allow_confusable,
            min_confidence=gate.min_confidence,
            deny_after_frames=gate.deny_after_frames,
            open_to_all=gate.open_to_all,
            full=gate.open_to_all and selectors.site_is_full(gate=gate),
            inside_since=_since_text(
                selectors.plate_on_site_since(gate=gate, plate=voted.plate, at=frame.captured_at)
            ),
        )
        decided_before = passage.decision
        _passage_update(passage, frame, frames, voted, verdict)
        visit = None
        if passage.decision == Decision.OPEN and decided_before != Decision.OPEN:
            visit = visit_record(passage=passage)  # the site's entry or exit gate let it through
        if passage.decision not in (decided_before, Decision.UNKNOWN):
            passage_decided_emit(
                passage=passage, blocked=verdict.blocked, passback=verdict.passback, visit=visit
            )
        frame.passage = passage
        frame.decision = passage.decision
        frame.save(update_fields=_READ_FIELDS)
    return frame


def _since_text(at: datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def _passage_update(
    passage: Passage,
    frame: Frame,
    frames: list[Frame],
    voted: rules.Vote,
    verdict: rules.Verdict,
) -> None:
    passage.frames_count = len(frames)
    passage.last_frame_at = max(passage.last_frame_at, frame.captured_at)
    passage.voted_plate = voted.plate
    passage.confidence = voted.confidence
    watched = watch_reason_for_plate(plate=voted.plate)
    if watched and watched != passage.watched:
        logger.warning(
            "gate %s: %s is on the watch list (%s), passage %s",
            passage.gate.name, voted.plate, watched, passage.pk,
        )  # fmt: skip
    passage.watched = watched
    # Open is final for the passage: a later blurred frame must not shut a gate already open.
    if passage.decision != Decision.OPEN:
        passage.decision = verdict.decision
        passage.reason = verdict.reason[:255]
        if verdict.decision != Decision.UNKNOWN and passage.decided_at is None:
            passage.decided_at = timezone.now()
            first = min(f.received_at for f in frames)
            passage.decide_ms = (passage.decided_at - first).total_seconds() * 1000
    passage.save()


@dataclass(frozen=True)
class Answer:
    """What the device is told about one frame."""

    decision: str
    plate: str
    confidence: float
    reason: str
    passage: int | None
    frame: int
    queued: bool
    read_ms: float | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "plate": self.plate,
            "confidence": round(self.confidence, 4),
            "reason": self.reason,
            "passage": self.passage,
            "frame": self.frame,
            "queued": self.queued,
            "read_ms": None if self.read_ms is None else round(self.read_ms, 1),
        }


def frame_answer(*, frame: Frame) -> Answer:
    passage = frame.passage
    if frame.status == Frame.Status.PENDING or passage is None:
        return Answer(
            "unknown", "", 0.0, "the frame is still being read", None, frame.pk, frame.queued
        )
    return Answer(
        decision=frame.decision or passage.decision,
        plate=passage.voted_plate,
        confidence=passage.confidence,
        reason=passage.reason if not frame.error else f"{passage.reason}; {frame.error}",
        passage=passage.pk,
        frame=frame.pk,
        queued=frame.queued,
        read_ms=frame.read_ms,
    )
