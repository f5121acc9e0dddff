"""The benchmarks' contact sheets of misses: `evaluation e2e`'s photos drawn round their labelled
plate, with what was read (`ua_parking_val` never drawn); `evaluation read`'s misread crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from recognition.evaluation.endtoend import Case, judge_plate_reader, run_benchmark
from recognition.evaluation.miss_sheet import CAPTION_H, COLUMNS, LABEL, READ, TILE, miss_sheet
from recognition.evaluation.reading import Item, evaluate_system, misread_sheet
from recognition.pipeline.ocr import OcrResult


def _photo() -> np.ndarray:
    return np.full((300, 400, 3), 90, np.uint8)


def test_each_miss_is_drawn_round_its_plate_and_ua_parking_never(tmp_path: Path) -> None:
    # given a benchmark with one hit, two misses with a box and one ua_parking_val miss
    label = np.array([150, 120, 250, 150], np.float32)
    cases = [
        Case(_photo(), label, "AA1234BB", "ua_types/ua_2015"),
        Case(_photo(), label, "BB4813XP", "ua_types/ua_2015"),
        Case(_photo(), label, "09BO8826", "ua_types/ua_transit"),
        Case(_photo(), None, "AX0787CO", "ua_parking/ua"),
    ]
    read = {"AA1234BB": [(label, "AA1234BB")], "BB4813XP": [(label + 60, "RK7355")]}

    def reader(case: Case) -> list[tuple[np.ndarray, str]]:
        return read.get(case.text, [])

    report = run_benchmark({"ours": (reader, judge_plate_reader)}, cases, plate_readers={"ours"})
    misses = report["ours"]["misses"]  # type: ignore[index]
    assert [m["case"] for m in misses] == [1, 2, 3]
    # when the sheet is drawn
    drawn = miss_sheet(cases, misses, tmp_path / "misses.png")
    # then the two boxed misses are on it, side by side, and the ua_parking_val photo is not
    assert drawn == 2
    sheet = np.asarray(Image.open(tmp_path / "misses.png").convert("RGB"))
    assert sheet.shape[1] == COLUMNS * TILE[0]
    first, second = sheet[:, : TILE[0]], sheet[:, TILE[0] : 2 * TILE[0]]
    # the label's outline on both, the reported box only on the photo where one was read
    assert (first[: TILE[1]] == LABEL).all(axis=-1).any()
    assert (second[: TILE[1]] == LABEL).all(axis=-1).any()
    assert (first[: TILE[1]] == READ).all(axis=-1).any()
    assert not (second[: TILE[1]] == READ).all(axis=-1).any()
    # and the third column is empty
    assert (sheet[:, 2 * TILE[0] :] == 255).all()


def test_no_sheet_without_a_miss_to_draw(tmp_path: Path) -> None:
    case = Case(_photo(), None, "AX0787CO", "ua_parking/ua")
    miss = {"group": case.group, "want": case.text, "got": [], "boxes": [], "case": 0}
    assert miss_sheet([case], [miss], tmp_path / "misses.png") == 0
    assert not (tmp_path / "misses.png").exists()


def test_the_reading_benchmark_lists_and_draws_each_misread_crop(tmp_path: Path) -> None:
    # given two sets of crops and a system that reads O for 0 in one and B as D in the other
    crop = np.full((40, 160, 3), 200, np.uint8)
    sets = {
        "real": [Item(crop, "ABC123", "us_crops", "us"), Item(crop, "KMBORAK", "eu", "eu")],
        "synth_ua": [Item(crop, "AA1234BB", "0-15", "ua_2015")],
    }
    reads = iter(["KMB0RAK", "ABC123", "AA1234BD"])  # read region by region: eu, us, then ua

    def system(crops: list[np.ndarray], formats: object) -> list[OcrResult]:
        return [OcrResult(next(reads), "", 0.9, (), (), ()) for _ in crops]

    # when it is evaluated and its misses drawn
    report = evaluate_system("ours", system, sets)
    drawn = misread_sheet(sets, report, tmp_path / "read_misses.png")
    # then only the crop read wrong is listed (O and 0 alike), and drawn
    assert report["real"]["misses"] == []
    assert report["synth_ua"]["misses"] == [
        {"index": 0, "group": "0-15", "truth": "AA1234BB", "read": "AA1234BD"}
    ]
    assert drawn == 1
    assert Image.open(tmp_path / "read_misses.png").size == (COLUMNS * TILE[0], TILE[1] + CAPTION_H)
