"""A fixed synthetic evaluation set: Ukrainian plates at known yaw, in real val-split scenes.

The same seed always gives the same images, so two models are compared on identical inputs.
Backgrounds come only from the `val` splits, which no training run sees.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognition.synth.compose import paste, pose_corners
from recognition.synth.degrade import degrade_camera, degrade_surface
from recognition.synth.plates import render_plate

YAW_BUCKETS: tuple[tuple[int, int], ...] = ((0, 15), (15, 30), (30, 45), (45, 60), (60, 75))
UA_FORMATS = ("ua_2015", "ua_2015", "ua_2004", "ua_square")


@dataclass(frozen=True)
class AngleSample:
    image: np.ndarray
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL
    text: str
    format: str
    yaw: float
    bucket: str
    lines: tuple[str, ...] = ()

    @property
    def box(self) -> np.ndarray:
        """The plate's axis-aligned box (x1, y1, x2, y2), as a detector reports it."""
        return np.concatenate([self.corners.min(0), self.corners.max(0)]).astype(np.float32)


def bucket_name(bucket: tuple[int, int]) -> str:
    return f"{bucket[0]}-{bucket[1]}"


def angle_set(
    data_root: Path,
    per_bucket: int = 40,
    seed: int = 2026,
    *,
    split: str = "val",
    formats: tuple[str, ...] = UA_FORMATS,
) -> Iterator[AngleSample]:
    """The evaluation set by default; `split="train"` with another seed gives training scenes."""
    from recognition.training.det_data import load_records, read_rgb

    scenes = load_records(data_root, split)
    if not scenes:
        raise FileNotFoundError(f"no {split} scenes under {data_root}")
    rng = random.Random(seed)
    for bucket in YAW_BUCKETS:
        for _ in range(per_bucket):
            record = rng.choice(scenes)
            image, _ = read_rgb(record.path)
            image = image.copy()
            fmt = rng.choice(formats)
            plate = render_plate(fmt, rng)
            yaw = rng.uniform(*bucket) * rng.choice((-1, 1))
            h, w = image.shape[:2]
            width = rng.uniform(0.14, 0.3) * w
            centre = (rng.uniform(0.3, 0.7) * w, rng.uniform(0.4, 0.8) * h)
            quad = pose_corners(
                plate.image.shape[:2], centre, width, yaw, rng.uniform(-12, 12), rng.uniform(-3, 3)
            )
            pasted = paste(image, degrade_surface(plate.image, rng, 0.5), quad)
            image = degrade_camera(image, rng, strength=0.4)
            yield AngleSample(
                image, pasted.corners, plate.text, fmt, abs(yaw), bucket_name(bucket), plate.lines
            )
