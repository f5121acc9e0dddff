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
class PhotoResult:
    plates: tuple[PlateReading, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Readings that are not plates (badges, model names, dealer text): never reported as plates.
    rejected: tuple[RejectedText, ...] = ()


class Engine(Protocol):
    version: str

    def recognize_batch(self, images: Sequence[np.ndarray]) -> list[PhotoResult]:
        """Read every plate on each RGB uint8 HxWx3 image, in input order."""
        ...
