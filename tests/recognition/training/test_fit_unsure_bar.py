"""The unsure bar: fitted on characters right and wrong, stored with the reader, read by pages."""

from __future__ import annotations

import json

import pytest

from recognition.evaluation.reading import Item
from recognition.pipeline.ocr import OcrResult
from recognition.selectors import UNSURE_BELOW_DEFAULT, characters_read, unsure_bar
from recognition.training.fit_unsure_bar import BAR_GRID, bar_scores, characters


def _read(text: str, confidences: list[float]) -> OcrResult:
    return OcrResult(text, "ua_2015", min(confidences), tuple(confidences), (), (text,))


def test_each_character_of_a_reading_as_long_as_its_label_is_right_or_wrong() -> None:
    items = [Item(None, "AA1234BB", "0-15", "ua_2015") for _ in range(3)]  # type: ignore[arg-type]
    results = [
        _read("AA1234B8", [0.9] * 7 + [0.3]),  # the last one wrong
        _read("AAI234B0", [0.9] * 8),  # I for 1 is no error (scored as the benchmarks); 0 for B is
        _read("AA1234B", [0.9] * 7),  # shorter: no position to compare, left out
    ]
    assert characters(items, results) == [
        [(0.9, False)] * 6 + [(0.9, False), (0.3, True)],
        [(0.9, False)] * 7 + [(0.9, True)],
    ]


def test_a_bar_is_scored_by_the_wrong_characters_it_marks_and_the_right_ones_it_marks_too() -> None:
    # given: two wrong characters (0.3 and 0.7) and right ones at 0.95 and one at 0.5
    readings = [
        [(0.95, False), (0.3, True), (0.95, False)],
        [(0.95, False), (0.7, True)],
        [(0.95, False), (0.5, False)],  # a right reading with a doubted character
        [(0.95, False), (0.95, False)],
    ]

    scores = {s.bar: s for s in bar_scores(readings)}

    assert set(scores) == set(BAR_GRID)
    at_04, at_06, at_08 = scores[0.4], scores[0.6], scores[0.8]
    assert (at_04.marked_wrong, at_04.marked_right, at_04.recall, at_04.precision) == (
        1, 0, 0.5, 1.0
    )  # fmt: skip
    assert (at_06.marked_wrong, at_06.marked_right, at_06.precision) == (1, 1, 0.5)
    assert (at_08.marked_wrong, at_08.marked_right, at_08.recall) == (2, 1, 1.0)
    assert at_08.f1 == pytest.approx(0.8)
    assert (at_08.right_readings, at_08.right_readings_marked) == (2, 1)
    assert max(scores.values(), key=lambda s: (s.f1, -s.bar)).bar == 0.75  # the lowest best


def test_pages_mark_characters_under_the_bar_fitted_for_the_reader(tmp_path, settings) -> None:
    # given: a reader whose manifest holds a fitted bar of 0.8
    (tmp_path / "ocr").mkdir()
    manifest = {"file": "platereader.pth", "unsure_below": 0.8}
    (tmp_path / "ocr" / "manifest.json").write_text(json.dumps(manifest))
    settings.PLATECHECK_MODELS_DIR = str(tmp_path)

    chars = characters_read(text="AB", confidences=[0.79, 0.81])

    assert unsure_bar() == 0.8
    assert [c.unsure for c in chars] == [True, False]


def test_a_reader_without_a_fitted_bar_gets_the_default(tmp_path, settings) -> None:
    (tmp_path / "ocr").mkdir()
    (tmp_path / "ocr" / "manifest.json").write_text(json.dumps({"file": "platereader.pth"}))
    settings.PLATECHECK_MODELS_DIR = str(tmp_path)

    assert unsure_bar() == UNSURE_BELOW_DEFAULT
