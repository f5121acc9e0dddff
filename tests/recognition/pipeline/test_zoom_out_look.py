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

import numpy as np
import pytest
import torch

from recognition.pipeline.engine import ZOOM_OUT, CombinedReader, PlateEngine
from recognition.pipeline.maskrcnn import DetectorConfig
from recognition.pipeline.plate_detector import DETECT_MAX_SIDE, PlateDetector, zoomed_out
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
