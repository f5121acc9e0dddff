"""Recogniser doubles at the system's edge (the network), for tests of the real reading path.

Everything around them is the product's code: the format hint, the row split, the CTC variants,
the joining of rows and the format rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recognition.pipeline.ctc import LineRead
from recognition.pipeline.ocr import PlateReader

SURE = 0.99


def line(text: str, sure: float = SURE) -> LineRead:
    """A line read as `text`, each character with probability `sure`."""
    return LineRead(text, sure ** len(text), tuple(((ch, sure),) for ch in text))


class RowReader(PlateReader):
    """Reads a line image perfectly when it holds exactly one printed row of a known plate.

    A line holds a row when it covers at least 90 % of the row's height and less than a third
    of any other row: what a perfect recogniser could read from that cut. A line that holds
    several rows or a part of one reads as nothing.
    """

    def __init__(self, sure: float = SURE) -> None:
        super().__init__(Path("row-reader-double"), {"version": "rows-double"})
        self.sure = sure  # each character's probability in what it reads
        self.plates: list[tuple[np.ndarray, list[tuple[float, float]], tuple[str, ...]]] = []
        self.seen: list[str] = []

    def add(self, crop: np.ndarray, boxes: Sequence[tuple[float, float]], rows: tuple[str, ...]):
        self.plates.append((crop, list(boxes), rows))

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineRead]:
        out = [line(self._text(part), self.sure) for part in lines]
        self.seen += [r.text for r in out]
        return out

    def _text(self, part: np.ndarray) -> str:
        for crop, boxes, rows in self.plates:
            if not np.shares_memory(part, crop):
                continue
            start = part.__array_interface__["data"][0] - crop.__array_interface__["data"][0]
            y0 = start // crop.strides[0]
            y1 = y0 + part.shape[0]
            cover = [max(0.0, min(b, y1) - max(a, y0)) / (b - a) for a, b in boxes]
            held = [k for k, c in enumerate(cover) if c >= 0.9]
            others = [c for k, c in enumerate(cover) if k not in held]
            if len(held) == 1 and all(c < 1 / 3 for c in others):
                return rows[held[0]]
            return ""
        return ""


class ScriptedReader(PlateReader):
    """Reads each whole crop as the next scripted text (one crop per call in these tests)."""

    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__(Path("scripted-reader-double"), {"version": "scripted-double"})
        self.texts = list(texts)

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineRead]:
        return [line(self.texts.pop(0) if k == 0 else "") for k, _ in enumerate(lines)]


class RecordingReader(ScriptedReader):
    """Reads the scripted texts in turn (a text and the probability of each of its characters),
    and keeps the grey spread of every line it was given."""

    def __init__(self, texts: Sequence[str | tuple[str, float]]) -> None:
        super().__init__([])
        self.script = list(texts)
        self.spreads: list[float] = []

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineRead]:
        self.spreads += [float(part.std() / 255) for part in lines]
        return [self._next() for _ in lines]

    def _next(self) -> LineRead:
        if not self.script:
            return line("")
        item = self.script.pop(0)
        text, sure = item if isinstance(item, tuple) else (item, SURE)
        return line(text, sure)
