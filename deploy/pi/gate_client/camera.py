"""Where frames come from: a folder (simulate), or a camera through OpenCV, on motion or at a
fixed rate. Every source yields `Shot`s: JPEG bytes with the moment they were taken."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# Mean absolute change (0-255) between downscaled grey frames that counts as motion.
MOTION_THRESHOLD = 6.0


@dataclass(frozen=True)
class Shot:
    jpeg: bytes
    captured_at: float
    name: str
    frame_id: str = field(default_factory=lambda: uuid.uuid4().hex)


class Camera(Protocol):
    def shots(self) -> Iterator[Shot]: ...


def _to_jpeg(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix.lower() in {".jpg", ".jpeg"}:
        return data
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not an image")
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError(f"{path}: cannot encode as JPEG")
    return encoded.tobytes()


class FolderCamera:
    """--simulate DIR: the folder's images in name order, `interval_s` apart."""

    def __init__(self, folder: Path, *, interval_s: float, once: bool) -> None:
        self.folder = folder
        self.interval_s = interval_s
        self.once = once

    def shots(self) -> Iterator[Shot]:
        while True:
            files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise FileNotFoundError(f"no images in {self.folder}")
            for path in files:
                try:
                    jpeg = _to_jpeg(path)
                except (OSError, ValueError) as exc:
                    logger.warning("skipped %s: %s", path, exc)
                    continue
                yield Shot(jpeg=jpeg, captured_at=time.time(), name=path.name)
                time.sleep(self.interval_s)
            if self.once:
                return


class OpenCvCamera:
    """A USB or CSI camera through OpenCV: every `interval_s`, or only on motion."""

    def __init__(
        self,
        device: int | str,
        *,
        interval_s: float,
        on_motion: bool,
        width: int,
        height: int,
        max_read_failures: int | None = None,
    ) -> None:
        import cv2

        self.cv2 = cv2
        self.capture = cv2.VideoCapture(device)
        self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.interval_s = interval_s
        self.on_motion = on_motion
        # None: a live camera is retried for ever; a video file ends after a few failed reads.
        self.max_read_failures = max_read_failures

    def shots(self) -> Iterator[Shot]:
        cv2 = self.cv2
        previous = None
        failures = 0
        while True:
            ok, image = self.capture.read()
            if not ok:
                failures += 1
                if self.max_read_failures is not None and failures > self.max_read_failures:
                    return
                logger.warning("camera read failed; retrying in 1 s")
                time.sleep(1.0)
                continue
            failures = 0
            now = time.time()
            small = cv2.cvtColor(cv2.resize(image, (160, 90)), cv2.COLOR_BGR2GRAY)
            moved = (
                previous is None or float(cv2.absdiff(small, previous).mean()) > MOTION_THRESHOLD
            )
            previous = small
            if not self.on_motion or moved:
                encoded_ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
                if encoded_ok:
                    yield Shot(jpeg=encoded.tobytes(), captured_at=now, name="camera")
            time.sleep(self.interval_s)
