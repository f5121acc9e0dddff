"""The committed detector finds plates on real val photos it never trained on.

The bar is far below the benchmark's figures so that the test flags a broken model, not noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recognition.datasets import load_records, read_rgb
from recognition.evaluation.metrics import box_iou
from recognition.pipeline.engine import DEFAULT_MODELS_DIR
from recognition.pipeline.plate_detector import PlateDetector

DATA = Path(__file__).resolve().parents[4] / "shared" / "datasets"
SMOKE_PHOTOS = 12


@pytest.fixture(scope="module")
def detector() -> PlateDetector:
    return PlateDetector.load(DEFAULT_MODELS_DIR / "detector")


@pytest.mark.skipif(not DATA.exists(), reason="../shared/datasets is not beside the checkout")
def test_it_finds_the_plate_on_real_val_photos(detector):
    records = load_records(DATA, "val", ("openalpr_endtoend",))[:SMOKE_PHOTOS]
    assert len(records) == SMOKE_PHOTOS
    found = 0
    for rec in records:
        image, scale = read_rgb(rec.path, max_side=4096)
        dets = detector.detect([image])[0]
        boxes = np.array([d.box for d in dets], np.float32).reshape(-1, 4)
        gt = np.array(rec.boxes, np.float32) * scale
        found += bool(len(boxes)) and box_iou(boxes, gt).max() >= 0.5
    assert found >= SMOKE_PHOTOS // 2


def test_it_finds_nothing_on_a_blank_photo(detector):
    blank = np.full((480, 640, 3), 128, np.uint8)
    assert detector.detect([blank]) == [[]]


@pytest.mark.parametrize("shape", [(2, 1500), (1500, 2), (4, 3000), (1, 1), (20, 20)])
def test_a_photo_a_few_pixels_thin_is_read_as_having_no_plate(detector, shape):
    # The network's resize took a 1500 x 2 strip (a valid JPEG) to a side of no pixels and raised,
    # failing every photo of its batch.
    strip = np.full((*shape, 3), 128, np.uint8)
    assert detector.detect([strip, strip]) == [[], []]
    assert len(detector.detect([strip], zoom_out=2.0)[0]) == 0


def test_corners_come_back_in_photo_pixels(detector):
    sample = DEFAULT_MODELS_DIR.parent / "webapp/listings/sample_data/photos/AA1234BB_a.jpg"
    from recognition.pipeline.images import load_photo

    image = load_photo(sample.read_bytes())
    dets = detector.detect([image])[0]
    assert dets, "the shipped sample photo's plate is found"
    x1, y1, x2, y2 = dets[0].box
    corners = dets[0].corners
    assert corners[:, 0].min() >= x1 - 15
    assert corners[:, 0].max() <= x2 + 15
    assert corners[:, 1].min() >= y1 - 15
    assert corners[:, 1].max() <= y2 + 15
