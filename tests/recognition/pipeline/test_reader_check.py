from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recognition.pipeline.engine import CombinedReader
from recognition.pipeline.ocr import OcrResult, PlateReader
from recognition.pipeline.plate_detector import PlateDetector
from recognition.pipeline.reader_check import CropRead, ReaderCheck
from tests.recognition.pipeline.test_ocr import rendered_crops

MODELS = Path(__file__).resolve().parents[3] / "models"
CHECK = ReaderCheck(sure=0.95, candidate=0.3, min_confidence=0.1)


def read(confidence: float, chars: int = 8) -> CropRead:
    """A reading at `confidence`, of a full-length Ukrainian plate unless told otherwise."""
    return CropRead(confidence, chars)


def test_a_sure_detection_stands_without_a_reading() -> None:
    assert CHECK.keeps(score=0.96, read=read(0.0))


def test_a_weaker_detection_stands_only_when_the_reader_reads_it() -> None:
    assert CHECK.keeps(score=0.5, read=read(0.1))
    assert not CHECK.keeps(score=0.5, read=read(0.09))


def test_a_detection_below_the_candidates_is_dropped_however_well_it_reads() -> None:
    assert not CHECK.keeps(score=0.29, read=read(1.0))


def test_a_reading_shorter_than_a_plate_drops_even_a_sure_detection() -> None:
    # given a check that wants readings of 3 characters or more
    check = ReaderCheck(sure=0.95, candidate=0.3, min_confidence=0.1, min_chars=3)
    # then a tail lamp the detector is sure of, read as two letters, is dropped ...
    assert not check.keeps(score=0.99, read=read(0.4, chars=2))
    # ... and three characters are enough, sure or read
    assert check.keeps(score=0.99, read=read(0.0, chars=3))
    assert check.keeps(score=0.5, read=read(0.1, chars=3))


def test_a_sure_detection_the_reader_reads_nothing_from_is_dropped_when_the_check_says_so() -> None:
    # given a check that wants a sure detection read at 0.02 or more
    check = ReaderCheck(sure=0.95, candidate=0.3, min_confidence=0.1, sure_min_confidence=0.02)
    # then a notice the detector is sure of, read at 0.001, is dropped; a plate read at 0.02 is not
    assert not check.keeps(score=0.99, read=read(0.001))
    assert check.keeps(score=0.99, read=read(0.02))
    # and a check fitted before the field existed keeps the detector's word
    old = ReaderCheck.from_manifest({"reader_check": {"sure": 0.95, "candidate": 0.3,
                                                      "min_confidence": 0.1}}, 0.9)  # fmt: skip
    assert old.sure_min_confidence == 0.0
    assert old.keeps(score=0.99, read=read(0.0))


def test_the_length_of_a_reading_counts_letters_and_digits_only() -> None:
    # given a two-line reading joined with a separator
    result = OcrResult(
        text="AA 1234-BB", format="ua_square", confidence=0.7, char_confidences=(),
        alternatives=(), lines=("AA1234", "BB"), valid=True,
    )  # fmt: skip
    # when
    crop_read = CropRead.of(result)
    # then the length counts 8, and the text and its validity come along
    assert crop_read == CropRead(0.7, 8, "AA 1234-BB", valid=True)


def test_weights_without_a_fitted_check_keep_the_plain_threshold() -> None:
    # given a manifest from before the reader check
    check = ReaderCheck.from_manifest({"threshold": 0.8}, 0.8)
    # then the threshold alone decides, whatever the reader says
    assert check.keeps(score=0.8, read=read(0.0))
    assert not check.keeps(score=0.79, read=read(1.0))


def test_a_fitted_check_is_read_from_the_manifest() -> None:
    manifest = {"reader_check": {**CHECK.to_json(), "reader": "ocr-x", "fitted": {"f1": 0.7}}}
    check = ReaderCheck.from_manifest(manifest, 0.9)
    assert check == ReaderCheck(0.95, 0.3, 0.1, "ocr-x")


def test_a_check_fitted_before_length_was_weighed_keeps_any_length() -> None:
    # given a manifest written before `min_chars` existed
    raw = {"sure": 0.97, "candidate": 0.5, "min_confidence": 0.02, "reader": "ocr-x"}
    # when
    check = ReaderCheck.from_manifest({"reader_check": raw}, 0.9)
    # then
    assert check.min_chars == 0
    assert check.keeps(score=0.99, read=read(0.0, chars=1))


def test_a_check_whose_candidates_score_above_its_sure_ones_is_refused() -> None:
    with pytest.raises(ValueError, match="candidate <= sure"):
        ReaderCheck(sure=0.5, candidate=0.6, min_confidence=0.1)


@pytest.fixture(scope="module")
def reader() -> CombinedReader:
    return CombinedReader(PlateReader.load(MODELS / "ocr"), None)


def test_the_combined_reader_reads_once_and_returns_nothing_for_refused_crops(
    reader: CombinedReader,
) -> None:
    # given two rendered plates and a blank crop
    crops = [crop for crop, _ in rendered_crops("ua_2015", 2, seed=3)]
    crops.append(np.full_like(crops[0], 127))
    seen: list[tuple[int, float]] = []

    def keep(k: int, own) -> bool:
        seen.append((k, own.confidence))
        return own.confidence >= 0.2

    # when
    results = reader.read_batch(crops, keep)
    # then every crop was offered to the check once, in order, and the blank one was refused
    assert [k for k, _ in seen] == [0, 1, 2]
    assert results[2] is None
    assert all(r is not None and r.confidence >= 0.2 for r in results[:2])


def test_the_shipped_detector_carries_a_check_fitted_with_the_shipped_reader() -> None:
    detector = PlateDetector.load(MODELS / "detector")
    reader = PlateReader.load(MODELS / "ocr")
    manifest = json.loads((MODELS / "detector" / "manifest.json").read_text())
    assert "reader_check" in manifest
    check = ReaderCheck.from_manifest(detector.manifest, detector.threshold)
    assert check.reader == reader.version
    assert check.candidate <= detector.threshold <= check.sure
