"""The redaction benchmark's measures (recognition/evaluation/redaction.py)."""

from __future__ import annotations

import numpy as np

from recognition.evaluation.redaction import cover, engine_quads, hidden_elsewhere
from recognition.pipeline.types import PhotoResult, PlateArea

QUAD = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


def test_cover_counts_the_inner_part_of_a_loose_label():
    mask = np.zeros((100, 100), bool)
    mask[20:40, 10:90] = True  # hides the box (10, 20)-(90, 40) whole
    assert cover(mask, (10, 20, 90, 40)) == 1.0
    # a label looser by 10 % on each side than what is hidden still counts as hidden
    assert cover(mask, (2, 18, 98, 42)) == 1.0
    mask[20:40, 50:90] = False
    assert 0.45 < cover(mask, (10, 20, 90, 40)) < 0.55


def test_hidden_elsewhere_leaves_out_the_labelled_boxes():
    mask = np.zeros((10, 10), bool)
    mask[0:2, 0:5] = True  # 10 pixels: the label's
    mask[8:10, 8:10] = True  # 4 pixels elsewhere
    assert hidden_elsewhere(mask, [(0, 0, 5, 2)]) == 0.04


def test_the_product_hides_read_plates_and_detections_from_its_score():
    areas = (
        PlateArea(QUAD, 0.2, read=True),  # read: always hidden
        PlateArea(QUAD, 0.2, read=False),
        PlateArea(QUAD, 0.6, read=False),
    )
    result = PhotoResult(plates=(), areas=areas)
    assert len(engine_quads(result, 0.3)) == 2
    assert len(engine_quads(result, 0.1)) == 3
    assert len(engine_quads(result, 0.9)) == 1
