"""Per-region plate formats: one small module per format, plus text helpers."""

from __future__ import annotations

from recognition.pipeline.regions.registry import (
    ALL_FORMATS,
    FORMATS,
    Candidate,
    FormatHint,
    Resolved,
    fix_text,
    is_valid,
    resolve,
)
from recognition.pipeline.regions.text import normalise_plate, to_cyrillic, to_latin

__all__ = [
    "ALL_FORMATS",
    "FORMATS",
    "Candidate",
    "FormatHint",
    "Resolved",
    "fix_text",
    "is_valid",
    "normalise_plate",
    "resolve",
    "to_cyrillic",
    "to_latin",
]
