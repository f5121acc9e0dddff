from __future__ import annotations

import random

import numpy as np

from recognition.pipeline.ocr_input import LINE_H, LINE_W, split_lines, to_line_input
from recognition.synth.crops import jitter_real_crop, synth_lines, synth_plate_crop


def test_square_plates_give_one_sample_per_printed_line() -> None:
    samples = synth_lines(random.Random(1), fmt="ua_square")
    assert [len(s.text) for s in samples] == [2, 6]
    assert all(s.format == "ua_square" for s in samples)


def test_one_line_plates_give_one_sample_with_the_whole_text() -> None:
    (sample,) = synth_lines(random.Random(2), fmt="ua_2015")
    assert len(sample.text) == 8
    assert sample.image.ndim == 3
    assert sample.image.dtype == np.uint8


def test_crops_are_reproducible_from_the_seed() -> None:
    a, text_a, _ = synth_plate_crop("eu", random.Random(3), yaw=30)
    b, text_b, _ = synth_plate_crop("eu", random.Random(3), yaw=30)
    assert text_a == text_b
    assert np.array_equal(a, b)


def test_line_input_has_the_model_size() -> None:
    crop, _, _ = synth_plate_crop("br", random.Random(4))
    assert to_line_input(crop).shape == (LINE_H, LINE_W)
    top, bottom = split_lines(np.zeros((140, 196, 3), np.uint8))
    assert top.shape[0] + bottom.shape[0] > 140  # the two lines overlap a little


def test_real_crop_jitter_keeps_the_size() -> None:
    crop = np.full((60, 120, 3), 200, np.uint8)
    assert jitter_real_crop(crop, random.Random(5)).shape == crop.shape
