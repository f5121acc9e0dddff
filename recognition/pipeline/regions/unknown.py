"""Fallback for text that fits no known format: kept as read, never counted as valid."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(code="unknown", patterns=tuple("A" * n for n in range(1, 13)))
