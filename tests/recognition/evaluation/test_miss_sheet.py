"""`evaluation e2e`'s contact sheet of misses: each drawn round its labelled plate, with what was
read; `ua_parking_val` never drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from recognition.evaluation.endtoend import Case, judge_plate_reader, run_benchmark
from recognition.evaluation.miss_sheet import COLUMNS, LABEL, READ, TILE, miss_sheet


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
