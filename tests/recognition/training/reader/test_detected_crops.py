"""Reader training crops cut through the real detector: labelled, readable back, split by line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recognition.datasets import load_detected_crops, read_crop_rgb
from recognition.pipeline.engine import DEFAULT_MODELS_DIR
from recognition.pipeline.plate_detector import PlateDetector
from recognition.pipeline.rectify import SQUARE_SIZE, WIDE_SIZE
from recognition.synth.angle_set import angle_set
from recognition.training.reader.detected_crops import ALL_FORMATS, CropWriter, synthetic_crops

DATA = Path(__file__).resolve().parents[5] / "shared" / "datasets"


def test_written_crops_load_back_with_their_labels(tmp_path):
    writer = CropWriter(tmp_path)
    crop = np.full((56, 256, 3), 200, np.uint8)
    crop[10:40, 20:60] = (10, 20, 30)
    writer.add(crop, "AA1234BB", "detected_synth", "ua")
    writer.add(crop, "ЖЖ-?", "detected_real", "us")  # no plate characters: dropped on load
    writer.close()
    rows = [json.loads(x) for x in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == ["AA1234BB", "ЖЖ-?"]
    loaded = load_detected_crops(tmp_path)
    assert [(c.text, c.source, c.region) for c in loaded] == [("AA1234BB", "detected_synth", "ua")]
    assert np.array_equal(loaded[0].image, crop)


@pytest.mark.skipif(not DATA.exists(), reason="../shared/datasets is not beside the checkout")
def test_synthetic_scenes_give_crops_with_the_rendered_text(tmp_path):
    detector = PlateDetector.load(DEFAULT_MODELS_DIR / "detector")
    writer = CropWriter(tmp_path)
    synthetic_crops(detector, DATA, "train", 2, 5, (0.04, 0.08), writer)
    writer.close()
    assert writer.rows, "the detector found none of 10 pasted plates"
    # The same seed renders the same scenes: every crop's text is one of their one-line plates
    # or one line of a two-line plate.
    rendered = list(angle_set(DATA, 2, 5, split="train", formats=ALL_FORMATS))
    one_line = {s.text for s in rendered if len(s.lines) == 1}
    lines = {line for s in rendered if len(s.lines) == 2 for line in s.lines}
    for row in writer.rows:
        assert row["source"] == "detected_synth"
        assert row["text"] in one_line | lines
        img = read_crop_rgb(tmp_path / row["image"])
        assert img is not None
        if row["text"] in lines:  # one line cut from a square crop
            assert img.shape[1] == SQUARE_SIZE[0]
            assert img.shape[0] < SQUARE_SIZE[1]
        else:  # a whole crop of either size (a 2:1 US plate straightens square)
            assert img.shape[:2] in {(WIDE_SIZE[1], WIDE_SIZE[0]), (SQUARE_SIZE[1], SQUARE_SIZE[0])}
