"""Typed values that cross the engine's boundary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Point = tuple[float, float]


class EngineUnavailable(RuntimeError):
    """No trained weights are installed, or they failed their manifest check."""


class WeightsRejected(EngineUnavailable):
    """A weights file is present but does not match its manifest (sha256, version)."""


@dataclass(frozen=True)
class Alternative:
    text: str
    score: float


@dataclass(frozen=True)
class PlateReading:
    text: str
    format: str
    confidence: float
    char_confidences: tuple[float, ...]
    alternatives: tuple[Alternative, ...]
    corners: tuple[Point, Point, Point, Point]  # TL, TR, BR, BL in photo pixels
    box: tuple[float, float, float, float]
    detection_score: float


@dataclass(frozen=True)
class RejectedText:
    """Text read on a detection that fits no plate format of the active regions (debug only)."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class PlateArea:
    """A place on the photo that may show a plate, to hide in a copy fit to publish
    (`recognition.pipeline.redact`): a reported plate's outline, or a detection scored at the
    engine's `hide_min_score` or more whatever it read (a plate of a region the deployment
    does not report is a plate all the same)."""

    corners: tuple[Point, Point, Point, Point]  # TL, TR, BR, BL in photo pixels
    score: float  # the detector's
    read: bool  # a plate of the regions was read here (the outline is the reported plate's)


@dataclass(frozen=True)
class PhotoResult:
    plates: tuple[PlateReading, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Readings that are not plates (badges, model names, dealer text): never reported as plates.
    rejected: tuple[RejectedText, ...] = ()
    # Where a plate may be, reported or not: what a redacted copy hides.
    areas: tuple[PlateArea, ...] = ()


class Engine(Protocol):
    version: str

    def recognize_batch(self, images: Sequence[np.ndarray]) -> list[PhotoResult]:
        """Read every plate on each RGB uint8 HxWx3 image, in input order."""
        ...
