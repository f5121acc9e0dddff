"""A plate the detector cut into pieces is read whole: the pieces are joined along their line.

The detector is a double at the edge (a network) that returns the pieces; the joining, the
straightening, our trained reader and the format rules are the product's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from recognition.pipeline.engine import CombinedReader, PlateEngine
from recognition.pipeline.line_join import joined, on_one_line, with_joined
from recognition.pipeline.ocr import PlateReader
from recognition.pipeline.plate_detector import PlateDetection
from recognition.synth.compose import paste, pose_corners
from recognition.synth.plates import render_plate

MODELS = Path(__file__).resolve().parents[3] / "models" / "ocr"


def piece(box: tuple[float, float, float, float], score: float = 0.9) -> PlateDetection:
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    return PlateDetection(box, np.zeros((1, 1), np.float32), corners, score, True, 1.0)


def test_the_halves_of_one_plate_are_on_one_line() -> None:
    assert on_one_line((100, 50, 260, 100), (250, 52, 330, 98))
    # a gap of about one character still joins
    assert on_one_line((100, 50, 200, 100), (225, 50, 330, 100))


@pytest.mark.parametrize(
    ("other", "why"),
    [
        ((100, 0, 330, 40), "a badge above the plate"),
        ((500, 50, 700, 100), "the next car's plate, far along the line"),
        ((210, 20, 290, 160), "a much taller box"),
        ((120, 55, 190, 95), "a box inside the plate, not beside it"),
    ],
)
def test_boxes_that_are_not_pieces_of_one_plate_do_not_join(
    other: tuple[float, float, float, float], why: str
) -> None:
    assert not on_one_line((100, 50, 260, 100), other), why


def test_joined_spans_the_pieces_with_the_outer_edges_and_the_best_score() -> None:
    left = piece((100, 50, 260, 100), score=0.98)
    right = piece((240, 54, 330, 104), score=0.2)
    whole = joined([right, left])
    assert whole is not None
    assert whole.box == (100, 50, 330, 104)
    assert whole.score == 0.98
    np.testing.assert_allclose(whole.corners, [[100, 50], [330, 54], [330, 104], [100, 100]])
    assert not whole.corners_from_mask


def test_with_joined_adds_one_detection_per_run_and_keeps_the_pieces() -> None:
    pieces = [piece((100, 50, 160, 100)), piece((170, 52, 230, 99)), piece((235, 50, 300, 101))]
    lone = piece((600, 300, 800, 350))
    found = with_joined([*pieces, lone])
    assert found[:4] == [*pieces, lone]
    assert [d.box for d in found[4:]] == [(100, 50, 300, 101)]


def test_a_run_too_long_for_a_plate_is_not_joined() -> None:
    # five word-sized boxes of a sign on one line
    words = [piece((100 + 70 * k, 50, 160 + 70 * k, 100)) for k in range(5)]
    assert with_joined(words) == words


class PiecesDetector:
    """Finds the pasted plate as two overlapping pieces: its left 60 % and its right 50 %."""

    version = "pieces-double"
    threshold = 0.5

    def __init__(self, corners: np.ndarray) -> None:
        tl, tr, br, bl = corners
        self.pieces = [
            self._detection(np.array([tl, tl + 0.6 * (tr - tl), bl + 0.6 * (br - bl), bl]), 0.98),
            self._detection(np.array([tl + 0.5 * (tr - tl), tr, br, bl + 0.5 * (br - bl)]), 0.6),
        ]

    @staticmethod
    def _detection(quad: np.ndarray, score: float) -> PlateDetection:
        (x0, y0), (x1, y1) = quad.min(0), quad.max(0)
        box = (float(x0), float(y0), float(x1), float(y1))
        return PlateDetection(box, np.zeros((1, 1), np.float32), quad, score, True, 1.0)

    def detect(
        self,
        images: Sequence[np.ndarray],
        threshold: float = 0.5,
        *,
        equalise: bool = False,
        zoom_out: float = 1.0,
    ) -> list[list[PlateDetection]]:
        return [list(self.pieces) for _ in images]


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader.load(MODELS)


def test_a_plate_found_in_two_pieces_is_reported_once_and_whole(reader: PlateReader) -> None:
    # given a Ukrainian plate on a photo, found by the detector as two pieces
    scene = np.full((480, 640, 3), 90, np.uint8)
    plate = render_plate("ua_2015", random.Random(3))
    quad = pose_corners(plate.image.shape[:2], (320, 260), 300, yaw=10, pitch=5)
    corners = paste(scene, plate.image, quad).corners
    engine = PlateEngine(PiecesDetector(corners), CombinedReader(reader, None), "ua")  # type: ignore[arg-type]
    # when the engine reads the photo
    result = engine.recognize_batch([scene])[0]
    # then the whole plate is the one report, read from the joined pieces
    assert [p.text for p in result.plates] == [plate.text]
    assert result.plates[0].box == pytest.approx(
        (*corners.min(0).tolist(), *corners.max(0).tolist()), abs=1
    )
