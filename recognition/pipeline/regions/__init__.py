"""Per-region plate formats: one small module per format, plus text helpers."""

from __future__ import annotations

from recognition.pipeline.regions.regions import (
    DEFAULT_REGIONS,
    REGION_FORMATS,
    UnknownRegion,
    region_formats,
)
from recognition.pipeline.regions.table import (
    ALL_FORMATS,
    FORMATS,
    OVERLAPS,
    UNKNOWN,
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
    "DEFAULT_REGIONS",
    "FORMATS",
    "OVERLAPS",
    "REGION_FORMATS",
    "UNKNOWN",
    "Candidate",
    "FormatHint",
    "Resolved",
    "fix_text",
    "is_valid",
    "UnknownRegion",
    "normalise_plate",
    "region_formats",
    "resolve",
    "to_cyrillic",
    "to_latin",
]
