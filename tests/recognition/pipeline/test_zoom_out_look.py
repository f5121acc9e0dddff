"""The third look: a photo with no plate read surely after the first two is detected again
shrunk on a plain canvas, and a plate that fills most of the frame is found and read from the
photo itself.

The detection network is a double at the edge: it finds a white plate only while the plate spans
at most SIZE_LIMIT of the image it is given, as a network that never saw a plate fill the frame
does. The detector around it (shrinking, the canvas, coordinates back onto the photo, masks to
corners), the engine, the straightening and the format rules are the product's code.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from recognition.pipeline.engine import ZOOM_OUT, CombinedReader, PlateEngine, load_engine
from recognition.pipeline.images import load_photo
from recognition.pipeline.maskrcnn import DetectorConfig
from recognition.pipeline.plate_detector import DETECT_MAX_SIDE, PlateDetector, zoomed_out
from recognition.pipeline.types import PlateReading
from recognition.synth.compose import paste, pose_corners
from recognition.synth.plates import render_plate
from tests.recognition.pipeline.reader_doubles import RecordingReader

SIZE_LIMIT = 0.6  # the widest plate, as a share of the image's width, the double finds


def close_up(width: int) -> tuple[np.ndarray, np.ndarray, str]:
    """A Ukrainian plate `width` pixels wide in the middle of a grey 640 x 480 photo."""
    plate = render_plate("ua_2015", random.Random(5))
    scene = np.full((480, 640, 3), 90, np.uint8)
    quad = pose_corners(plate.image.shape[:2], (320, 240), width, yaw=0, pitch=0)
    pasted = paste(scene, plate.image, quad)
    return scene, pasted.corners, plate.text


class SizeLimitedNet(torch.nn.Module):
    """Finds the white plate in each image (its bright pixels' box) when it spans at most
    SIZE_LIMIT of the image's width; keeps the width share of every plate it was shown."""

    def __init__(self) -> None:
        super().__init__()
        self.shares: list[float] = []

    def forward(self, images: Sequence[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        outputs = []
        for image in images:
            white = (image > 0.85).all(dim=0)
            found = []
            if white.any():
                ys, xs = torch.nonzero(white, as_tuple=True)
                box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
                share = (box[2] - box[0]) / image.shape[2]
                self.shares.append(share)
                if share <= SIZE_LIMIT:
                    found.append(box)
            masks = torch.zeros((len(found), 1, *image.shape[1:]))
            for k, (a, b, c, d) in enumerate(found):
                masks[k, 0, b:d, a:c] = 1.0
            outputs.append(
                {
                    "boxes": torch.tensor(found, dtype=torch.float32).reshape(-1, 4),
                    "scores": torch.full((len(found),), 0.97),
                    "masks": masks,
                }
            )
        return outputs


def engine_for(reads: Sequence[str]) -> tuple[PlateEngine, SizeLimitedNet, RecordingReader]:
    net = SizeLimitedNet()
    detector = PlateDetector(net, DetectorConfig(), "size-limited-double")
    reader = RecordingReader(reads)
    engine = PlateEngine(detector, CombinedReader(reader, None), "ua", second_look=True)
    return engine, net, reader


@pytest.mark.parametrize("shape", [(480, 640), (1500, 2000)])
def test_a_zoomed_out_view_holds_the_photo_smaller_where_its_offset_and_scale_say(shape) -> None:
    h, w = shape
    photo = np.zeros((h, w, 3), np.uint8)
    photo[:, : w // 2] = (200, 40, 40)  # left half red, right half black: a mean of two
    view = zoomed_out(photo, 2.0)
    shrink = min(1.0, DETECT_MAX_SIDE / max(h, w))
    assert view.image.shape[:2] == (round(h * shrink), round(w * shrink))
    assert view.scale == pytest.approx(shrink / 2, rel=0.01)
    # the photo's pixels land at offset + scale * (x, y); round it lies the plain canvas
    for (x, y), colour in (((w * 0.25, h * 0.5), (200, 40, 40)), ((w * 0.75, h * 0.5), (0, 0, 0))):
        u, v = (int(view.offset[0] + view.scale * x), int(view.offset[1] + view.scale * y))
        np.testing.assert_array_equal(view.image[v, u], colour)
    np.testing.assert_array_equal(view.image[2, 2], (100, 20, 20))
    assert view.offset[0] == pytest.approx(view.image.shape[1] / 4, abs=1)


def test_a_plate_that_fills_the_frame_is_found_on_the_third_look_and_placed_on_the_photo() -> None:
    photo, corners, text = close_up(560)  # 0.875 of the photo's width
    engine, net, reader = engine_for([text])

    result = engine.recognize_batch([photo])[0]

    assert [p.text for p in result.plates] == [text]
    assert len(net.shares) == 3  # as taken, equalised, zoomed out
    assert net.shares[0] > SIZE_LIMIT >= net.shares[2]
    # the plate is reported where it is on the photo, not where it was on the canvas
    (x1, y1), (x2, y2) = corners.min(axis=0), corners.max(axis=0)
    np.testing.assert_allclose(result.plates[0].box, (x1, y1, x2, y2), atol=4)
    np.testing.assert_allclose(result.plates[0].corners, corners, atol=4)
    assert len(reader.spreads) == 1  # one crop read, on the third look
    assert "zoom_out_ms" in result.timings_ms


def test_a_plate_found_on_the_first_look_is_not_looked_at_again() -> None:
    photo, _, text = close_up(240)
    engine, net, _ = engine_for([text])
    result = engine.recognize_batch([photo])[0]
    assert [p.text for p in result.plates] == [text]
    assert len(net.shares) == 1
    assert "zoom_out_ms" not in result.timings_ms


def test_zooming_out_is_part_of_the_engine_s_later_looks() -> None:
    assert ZOOM_OUT > 1.0
    photo, _, text = close_up(560)
    engine, net, _ = engine_for([text])
    engine.second_look = False
    assert engine.recognize_batch([photo])[0].plates == ()
    assert len(net.shares) == 1


SAMPLE = Path(__file__).resolve().parents[3] / "webapp/listings/sample_data/photos/AA1234BB_a.jpg"


def on_photo(plate: PlateReading, width: int, height: int) -> bool:
    """Whether the plate's box and corners lie on a photo of that size."""
    x1, y1, x2, y2 = plate.box
    points = np.asarray([*plate.corners, (x1, y1), (x2, y2)])
    return bool(x1 < x2 and y1 < y2 and (points >= 0).all() and (points <= (width, height)).all())


@pytest.fixture(scope="module")
def real_engine() -> PlateEngine:
    return load_engine()


@pytest.mark.parametrize(
    "cut",
    [
        (slice(626, None), slice(None)),  # the photo cut through the middle of the plate
        (slice(601, 652), slice(349, 569)),  # the plate alone, as a close-up
    ],
)
def test_a_plate_at_the_photo_s_edge_is_reported_on_the_photo(real_engine, cut) -> None:
    # The zoomed-out look's box ran onto the canvas round the photo: the plate came back
    # reaching 8 px above the photo, or 18 px left of a close-up.
    photo = np.ascontiguousarray(load_photo(SAMPLE.read_bytes())[cut])
    height, width = photo.shape[:2]

    [result] = real_engine.recognize_batch([photo])

    assert [p.text for p in result.plates] == ["AA1234BB"]
    for plate in result.plates:
        assert on_photo(plate, width, height), (plate.box, plate.corners)


class FixedBoxNet(torch.nn.Module):
    """Finds one plate on every image it is given: the share `box` (x1, y1, x2, y2 of the
    image's width and height) of it, its mask filling the box."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        super().__init__()
        self.box = box

    def forward(self, images: Sequence[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        outputs = []
        for image in images:
            h, w = image.shape[1:]
            x1, y1, x2, y2 = (round(s * n) for s, n in zip(self.box, (w, h, w, h), strict=True))
            masks = torch.zeros((1, 1, h, w))
            masks[0, 0, y1:y2, x1:x2] = 1.0
            outputs.append(
                {
                    "boxes": torch.tensor([[x1, y1, x2, y2]], dtype=torch.float32),
                    "scores": torch.tensor([0.97]),
                    "masks": masks,
                }
            )
        return outputs


def fixed_box_detector(box: tuple[float, float, float, float]) -> PlateDetector:
    return PlateDetector(FixedBoxNet(box), DetectorConfig(), "fixed-box-double")


def test_a_detection_on_the_canvas_alone_is_no_plate_of_the_photo() -> None:
    photo = np.full((480, 640, 3), 200, np.uint8)
    # the zoomed-out photo fills the middle half of the canvas; this box lies left of it
    detector = fixed_box_detector((0.02, 0.3, 0.2, 0.4))
    assert detector.detect([photo], zoom_out=2.0) == [[]]
    assert len(detector.detect([photo])[0]) == 1


@pytest.mark.parametrize(
    ("shape", "reads"),
    [
        ((10, 300), ["AA1234BB"]),  # a thin photo, on a canvas 32 px tall from the first look
        ((480, 640), ["", "", "AA1234BB"]),  # read on the zoomed-out look only
    ],
)
def test_a_plate_across_the_canvas_is_reported_on_the_photo(shape, reads) -> None:
    # The box ran across the canvas round the photo, and the plate was reported there: corners
    # 22 px below a photo 10 px tall, 320 px left of a 640 px one.
    h, w = shape
    photo = np.full((h, w, 3), 200, np.uint8)
    detector = fixed_box_detector((0.0, 0.45, 1.0, 0.55) if h > 32 else (0.0, 0.0, 1.0, 1.0))
    engine = PlateEngine(detector, CombinedReader(RecordingReader(reads), None), "ua")
    engine.second_look = True

    [result] = engine.recognize_batch([photo])

    assert [p.text for p in result.plates] == ["AA1234BB"]
    assert on_photo(result.plates[0], w, h), (result.plates[0].box, result.plates[0].corners)
