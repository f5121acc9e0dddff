"""`evaluation e2e --split train`: the set to tune on holds no evaluation photo."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from recognition.evaluation.endtoend import get_args_parser, real_cases


def write_photos(root: Path) -> None:
    folder = root / "openalpr_endtoend"
    folder.mkdir(parents=True)
    rows = [
        {"image": "eu_val.png", "split": "val", "plates": [{"box": [1, 1, 9, 5], "text": "VAL1"}]},
        {"image": "eu_tr.png", "split": "train", "plates": [{"box": [1, 1, 9, 5], "text": "TR1"}]},
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
