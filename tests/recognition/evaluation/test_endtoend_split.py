"""`evaluation e2e`: the set to tune on holds no evaluation photo; the report names the misses."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from recognition.evaluation.endtoend import (
    Case,
    get_args_parser,
    judge_plate_reader,
    real_cases,
    run_benchmark,
)


def write_photos(root: Path, plates: tuple[tuple[str, str, str], ...] | None = None) -> None:
    """An openalpr_endtoend set of blank photos, one plate each: (image, split, text)."""
    folder = root / "openalpr_endtoend"
    folder.mkdir(parents=True)
    plates = plates or (("eu_val.png", "val", "VAL1"), ("eu_tr.png", "train", "TR1"))
    rows = [
        {"image": image, "split": split, "plates": [{"box": [1, 1, 9, 5], "text": text}]}
        for image, split, text in plates
    ]
    for row in rows:
        cv2.imwrite(str(folder / row["image"]), np.full((20, 40, 3), 90, np.uint8))
    (folder / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_each_split_reads_only_its_own_real_photos(tmp_path: Path) -> None:
    write_photos(tmp_path)
    assert [c.text for c in real_cases(tmp_path)] == ["VAL1"]
    assert [c.text for c in real_cases(tmp_path, split="train")] == ["TR1"]


def test_the_split_is_val_unless_asked() -> None:
    assert get_args_parser().parse_args([]).split == "val"
    assert get_args_parser().parse_args(["--split", "train"]).split == "train"


def test_the_report_lists_each_plate_readers_misses_with_what_it_read() -> None:
    box = np.array([0, 0, 10, 5], np.float32)
    cases = [
        Case(np.zeros((8, 12, 3), np.uint8), box, "AA1234BB", "real/eu"),
        Case(np.zeros((8, 12, 3), np.uint8), box, "KMBORAK", "real/eu"),
    ]
    readings = {"AA1234BB": "AA1234BB", "KMBORAK": "KM80RAK"}  # the second read wrong

    def reader(case: Case) -> list[tuple[np.ndarray, str]]:
        return [(box, readings[case.text])]

    report = run_benchmark({"ours": (reader, judge_plate_reader)}, cases, plate_readers={"ours"})
    ours = report["ours"]
    assert isinstance(ours, dict)
    assert ours["hits"]["real"] == 1
    assert ours["misses"] == [
        {
            "group": "real/eu",
            "want": "KMBORAK",
            "got": ["KM80RAK"],
            "boxes": [[0.0, 0.0, 10.0, 5.0]],
            "case": 1,
        }
    ]


def test_val_photos_of_plates_a_train_label_shows_are_not_counted_as_unseen(tmp_path: Path) -> None:
    # given a val photo of the plate a train photo shows (one car, two frames) and one of another
    write_photos(
        tmp_path,
        (
            ("eu_a.png", "val", "KA1234"),
            ("eu_b.png", "val", "NEW1"),
            ("eu_c.png", "train", "KA1234"),
        ),
    )
    # when the real val cases are drawn
    cases = {c.text: c for c in real_cases(tmp_path)}
    # then only the other plate counts in real/unseen
    assert "real/unseen" in cases["NEW1"].keys()
    assert "real/unseen" not in cases["KA1234"].keys()
    assert all("real/unseen" not in c.keys() for c in real_cases(tmp_path, split="train"))
