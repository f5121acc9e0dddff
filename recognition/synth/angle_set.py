"""A fixed synthetic evaluation set: Ukrainian plates at known yaw, in real val-split scenes.

The same seed always gives the same images, so two models are compared on identical inputs.
Backgrounds come only from the `val` splits, which no training run sees.

`ua_type_set` is the set of every Ukrainian plate type (2004/2015 series, 1995 series on one and
two rows, square two-row, motorcycle, trailer, transit, diplomatic) at yaw 0-60 degrees, so a
benchmark can report each type, and the plates of several rows, separately.

The plate is pasted where the scene shows no labelled plate: a plate half over another one is a
photo no camera takes, and the detector rightly boxes the two as one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from recognition import datasets
from recognition.synth.compose import paste, pose_corners
from recognition.synth.degrade import degrade_camera, degrade_surface
from recognition.synth.plates import UA_TYPES, render_plate

YAW_BUCKETS: tuple[tuple[int, int], ...] = ((0, 15), (15, 30), (30, 45), (45, 60), (60, 75))
UA_FORMATS = ("ua_2015", "ua_2015", "ua_2004", "ua_square")
# The yaw range of the "every Ukrainian type" set (issue #15's target: 0-60 degrees).
UA_TYPE_MAX_YAW = 60.0


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
    def rows(self) -> int:
        """Printed rows of the plate (1 for a one-row plate)."""
        return max(1, len(self.lines))

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
    scenes = _scenes(data_root, split)
    rng = random.Random(seed)
    for bucket in YAW_BUCKETS:
        for _ in range(per_bucket):
            scene = rng.choice(scenes)
            yield _paste_sample(scene, rng.choice(formats), bucket, rng)


def ua_type_set(
    data_root: Path,
    per_type: int = 20,
    seed: int = 2027,
    *,
    split: str = "val",
    formats: tuple[str, ...] = UA_TYPES,
    max_yaw: float = UA_TYPE_MAX_YAW,
) -> Iterator[AngleSample]:
    """`per_type` synthetic photos of each Ukrainian plate type, yaw uniform in 0..`max_yaw`.

    `AngleSample.format` names the type and `rows` tells the plates of several rows apart.
    """
    scenes = _scenes(data_root, split)
    rng = random.Random(seed)
    for fmt in formats:
        for _ in range(per_type):
            yield _paste_sample(rng.choice(scenes), fmt, (0.0, max_yaw), rng)


def _scenes(data_root: Path, split: str) -> list[datasets.SceneRecord]:
    scenes = datasets.load_records(data_root, split)
    if not scenes:
        raise FileNotFoundError(f"no {split} scenes under {data_root}")
    return scenes


# Tries at a place clear of the scene's labelled plates, first where plates usually sit, then
# anywhere in the frame (the last try is kept if none is clear).
PLACEMENT_TRIES = 20
FALLBACK_TRIES = 200
# Where a plate's centre is drawn, as shares of the width and height: (x from, x to, y from, y to).
USUAL_PLACES = (0.3, 0.7, 0.4, 0.8)
ANYWHERE = (0.12, 0.88, 0.1, 0.9)
# The clearance kept around a labelled plate, as a share of the pasted plate's width.
PLATE_CLEARANCE = 0.1


def _paste_sample(
    scene: datasets.SceneRecord, fmt: str, yaw_range: tuple[float, float], rng: random.Random
) -> AngleSample:
    """A rendered `fmt` plate pasted into `scene` at a yaw in `yaw_range` (either side), clear
    of the plates labelled in the scene."""
    # Looked up at call time: a benchmark records the scenes it reads.
    image, scale = datasets.read_rgb(scene.path)
    image = image.copy()
    plate = render_plate(fmt, rng)
    yaw = rng.uniform(*yaw_range) * rng.choice((-1, 1))
    labelled = [np.asarray(b, np.float32) * scale for b in scene.boxes]
    place = partial(_place, plate.image.shape[:2], image.shape[:2], yaw, labelled)
    quad, clear = place(rng, PLACEMENT_TRIES, USUAL_PLACES)
    if not clear:
        # A scene whose own plate fills the usual places (a large close-up plate). The wider
        # tries draw from the sample's own generator, so the set's other samples stay the same.
        own = random.Random(f"{scene.path.name}/{plate.text}")
        quad, _ = place(own, FALLBACK_TRIES, ANYWHERE, in_frame=True)
    pasted = paste(image, degrade_surface(plate.image, rng, 0.5), quad)
    image = degrade_camera(image, rng, strength=0.4)
    bucket = next((b for b in YAW_BUCKETS if b[0] <= abs(yaw) < b[1]), YAW_BUCKETS[-1])
    if yaw_range in YAW_BUCKETS:  # the angle set's own bucket, even for a yaw on its edge
        bucket = (int(yaw_range[0]), int(yaw_range[1]))
    return AngleSample(
        image, pasted.corners, plate.text, fmt, abs(yaw), bucket_name(bucket), plate.lines
    )


def _place(
    plate_shape: tuple[int, int],
    image_shape: tuple[int, int],
    yaw: float,
    labelled: list[np.ndarray],
    rng: random.Random,
    tries: int,
    places: tuple[float, float, float, float],
    *,
    in_frame: bool = False,
) -> tuple[np.ndarray, bool]:
    """The plate's corners at up to `tries` random places, and whether they are clear of the
    `labelled` plates (the first clear one, else the last tried); `in_frame`: and wholly inside
    the photo."""
    h, w = image_shape
    x_from, x_to, y_from, y_to = places
    for _ in range(tries):
        width = rng.uniform(0.14, 0.3) * w
        centre = (rng.uniform(x_from, x_to) * w, rng.uniform(y_from, y_to) * h)
        quad = pose_corners(
            plate_shape, centre, width, yaw, rng.uniform(-12, 12), rng.uniform(-3, 3)
        )
        if in_frame and (quad.min() < 0 or quad[:, 0].max() > w or quad[:, 1].max() > h):
            continue
        if not any(_near(quad, box, PLATE_CLEARANCE * width) for box in labelled):
            return quad, True
    return quad, False


def _near(quad: np.ndarray, box: np.ndarray, clearance: float) -> bool:
    """Whether the quadrilateral's box comes within `clearance` pixels of `box`."""
    x1, y1 = quad.min(axis=0) - clearance
    x2, y2 = quad.max(axis=0) + clearance
    return bool(x1 < box[2] and box[0] < x2 and y1 < box[3] and box[1] < y2)
