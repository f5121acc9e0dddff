"""Reading a plate on the Pi itself, only while the server is unreachable.

- `filename`: the plate is the image file's name up to the first `_` (AA1234BB_a.jpg). For
  --simulate runs only: a stand-in for a camera that knows what it saw.
- `engine`: platecheck's own engine (recognition/pipeline, no Django), when the project and
  its weights are installed on the device (a Pi 5 reads a frame in about a second).
- `none`: no local reading; offline frames are queued and the gate stays shut.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from gate_client.camera import Shot

_NOT_PLATE = re.compile(r"[^A-Z0-9]")


class LocalReader(Protocol):
    def read(self, shot: Shot) -> str: ...


class NoReader:
    def read(self, shot: Shot) -> str:
        return ""


class FilenameReader:
    def read(self, shot: Shot) -> str:
        return _NOT_PLATE.sub("", Path(shot.name).stem.split("_", 1)[0].upper())


class EngineReader:
    def __init__(self, models_dir: Path) -> None:
        from recognition.pipeline.engine import load_engine

        self.engine = load_engine(models_dir)

    def read(self, shot: Shot) -> str:
        import cv2
        import numpy as np

        image = cv2.imdecode(np.frombuffer(shot.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return ""
        result = self.engine.recognize_batch([cv2.cvtColor(image, cv2.COLOR_BGR2RGB)])[0]
        best = max(result.plates, key=lambda p: p.confidence, default=None)
        return _NOT_PLATE.sub("", best.text.upper()) if best else ""


def reader_from(spec: str, *, models_dir: Path) -> LocalReader:
    if spec == "filename":
        return FilenameReader()
    if spec == "engine":
        return EngineReader(models_dir)
    if spec == "none":
        return NoReader()
    raise ValueError(f"offline reader must be filename, engine or none, got {spec!r}")
