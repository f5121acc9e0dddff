"""The second look: a photo with no plate read surely is detected again with its contrast
stretched, and the plate found is read from the photo itself.

The detection network is a double at the edge: it finds the plate when the plate's region shows
enough contrast in the image it is given, as a network trained on well-lit plates does. The
detector around it (shrinking, equalising, masks to corners), the engine, the straightening and
the format rules are the product's code.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import torch

from recognition.pipeline.engine import SECOND_LOOK_BELOW, CombinedReader, PlateEngine
from recognition.pipeline.maskrcnn import DetectorConfig
from recognition.pipeline.plate_detector import PlateDetector, equalised
from recognition.synth.compose import paste, pose_corners
from recognition.synth.plates import render_plate
from tests.recognition.pipeline.reader_doubles import RecordingReader

# The plate's grey spread (0-1) the network double needs to see to find it.
VISIBLE_SPREAD = 0.016


def dull_photo() -> tuple[np.ndarray, np.ndarray, str]:
    """A plate on a scene, the whole photo squeezed into 8 grey levels (deep shade)."""
    rng = random.Random(3)
    scene = np.full((480, 640, 3), 90, np.uint8)
    plate = render_plate("ua_2015", rng)
    quad = pose_corners(plate.image.shape[:2], (320, 260), 240, yaw=0, pitch=0)
    pasted = paste(scene, plate.image, quad)
    dull = (scene.astype(np.float32) * (8 / 255) + 40).astype(np.uint8)
    return dull, pasted.corners, plate.text


def bounds(corners: np.ndarray) -> tuple[int, int, int, int]:
    """x1, y1, x2, y2 in whole pixels round a quadrilateral."""
    (x1, y1), (x2, y2) = corners.min(0).astype(int), corners.max(0).astype(int)
    return int(x1), int(y1), int(x2), int(y2)


def spread(image: np.ndarray, corners: np.ndarray) -> float:
    x1, y1, x2, y2 = bounds(corners)
    return float(image[y1:y2, x1:x2].std() / 255)


class ContrastNet(torch.nn.Module):
    """Finds the plate at `corners` when its region's spread reaches VISIBLE_SPREAD, and the
    `other` region (a badge, say), if given, always, less surely."""

    def __init__(self, corners: np.ndarray, other: np.ndarray | None = None) -> None:
        super().__init__()
        self.corners = corners
        self.other = other
        self.seen: list[float] = []  # the plate region's spread in each image it was given

    def forward(self, images: Sequence[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        outputs = []
        for image in images:
            x1, y1, x2, y2 = bounds(self.corners)
            seen = float(image[:, y1:y2, x1:x2].std())
            self.seen.append(seen)
            found = [((x1, y1, x2, y2), 0.97)] if seen >= VISIBLE_SPREAD else []
            if self.other is not None:
                found.append((bounds(self.other), 0.9))
            masks = torch.zeros((len(found), 1, *image.shape[1:]))
            for k, ((a, b, c, d), _) in enumerate(found):
                masks[k, 0, b:d, a:c] = 1.0
            outputs.append(
                {
                    "boxes": torch.tensor([box for box, _ in found], dtype=torch.float32).reshape(
                        -1, 4
                    ),
                    "scores": torch.tensor([score for _, score in found]),
                    "masks": masks,
                }
            )
        return outputs


def engine_for(
    corners: np.ndarray,
    reads: Sequence[str | tuple[str, float]],
    *,
    second_look: bool,
    other: np.ndarray | None = None,
) -> tuple[PlateEngine, ContrastNet, RecordingReader]:
    net = ContrastNet(corners, other)
    detector = PlateDetector(net, DetectorConfig(), "contrast-double")
    reader = RecordingReader(reads)
    engine = PlateEngine(detector, CombinedReader(reader, None), "ua", second_look=second_look)
    return engine, net, reader


def test_equalising_stretches_a_dull_plate_and_keeps_the_photo_shape() -> None:
    photo, corners, _ = dull_photo()
    stretched = equalised(photo)
    assert stretched.shape == photo.shape
    assert stretched.dtype == np.uint8
    assert spread(photo, corners) < VISIBLE_SPREAD <= spread(stretched, corners)


def test_a_plate_missed_in_a_dull_photo_is_found_on_the_second_look() -> None:
    photo, corners, text = dull_photo()
    engine, net, reader = engine_for(corners, [text], second_look=True)

    result = engine.recognize_batch([photo])[0]

    assert [p.text for p in result.plates] == [text]
    assert len(net.seen) == 2
    assert net.seen[0] < VISIBLE_SPREAD <= net.seen[1]
    # the plate is read from the photo as it was taken, not from the stretched copy
    assert reader.spreads
    assert max(reader.spreads) <= spread(photo, corners) * 1.5
    assert "second_look_ms" in result.timings_ms


def test_without_the_second_look_the_dull_plate_is_missed() -> None:
    photo, corners, text = dull_photo()
    engine, net, _ = engine_for(corners, [text], second_look=False)
    assert engine.recognize_batch([photo])[0].plates == ()
    assert len(net.seen) == 1


def test_a_photo_whose_plate_is_found_is_not_looked_at_again() -> None:
    photo, corners, text = dull_photo()
    bright = (photo.astype(np.float32) - 40) * (255 / 8)
    engine, net, _ = engine_for(corners, [text], second_look=True)
    result = engine.recognize_batch([bright.clip(0, 255).astype(np.uint8)])[0]
    assert [p.text for p in result.plates] == [text]
    assert len(net.seen) == 1
    assert "second_look_ms" not in result.timings_ms


def test_in_a_batch_only_the_photos_without_a_plate_are_looked_at_again() -> None:
    photo, corners, text = dull_photo()
    bright = ((photo.astype(np.float32) - 40) * (255 / 8)).clip(0, 255).astype(np.uint8)
    engine, net, _ = engine_for(corners, [text, text], second_look=True)
    results = engine.recognize_batch([bright, photo])
    assert [[p.text for p in r.plates] for r in results] == [[text], [text]]
    assert len(net.seen) == 3  # two photos, then the dull one again


def test_a_photo_without_any_plate_stays_empty_after_the_second_and_third_looks() -> None:
    blank = np.full((480, 640, 3), 47, np.uint8)
    somewhere = np.array([[300, 240], [340, 240], [340, 260], [300, 260]])
    engine, net, _ = engine_for(somewhere, [], second_look=True)
    result = engine.recognize_batch([blank])[0]
    assert result.plates == ()
    assert result.rejected == ()
    assert len(net.seen) == 3  # as taken, equalised, zoomed out
    assert {"second_look_ms", "zoom_out_ms"} <= set(result.timings_ms)


def test_a_photo_whose_only_reading_is_weak_is_looked_at_again_and_keeps_both() -> None:
    # given a dull photo where the first look finds only a badge, read weakly as a plate
    photo, corners, text = dull_photo()
    badge = np.array([[60, 60], [200, 60], [200, 100], [60, 100]], np.float32)
    weak = ("KA7740PP", 0.5)
    engine, net, _ = engine_for(corners, [weak, text, weak], second_look=True, other=badge)
    result = engine.recognize_batch([photo])[0]
    # then the second look finds the plate, and the badge's reading stays beside it
    assert len(net.seen) == 2
    assert [p.text for p in result.plates] == [text, "KA7740PP"]
    assert result.plates[1].confidence < SECOND_LOOK_BELOW


def test_a_photo_read_surely_on_the_first_look_is_not_looked_at_again() -> None:
    photo, corners, text = dull_photo()
    badge = np.array([[60, 60], [200, 60], [200, 100], [60, 100]], np.float32)
    engine, net, _ = engine_for(corners, ["KA7740PP"], second_look=True, other=badge)
    result = engine.recognize_batch([photo])[0]
    assert [p.text for p in result.plates] == ["KA7740PP"]
    assert len(net.seen) == 1
