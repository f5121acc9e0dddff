"""`evaluation read` scores the plates the reader never trained on apart from the rest."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.evaluation import reading


def write_crops(root: Path, rows: list[tuple[str, str, str]]) -> None:
    folder = root / "openalpr_br_crops"
    (folder / "images").mkdir(parents=True)
    lines = []
    for name, split, text in rows:
        cv2.imwrite(str(folder / "images" / name), np.full((40, 120, 3), 90, np.uint8))
        lines.append(json.dumps({"image": f"images/{name}", "split": split, "crop": True,
                                 "plates": [{"box": [0, 0, 120, 40], "text": text}]}))  # fmt: skip
    (folder / "labels.jsonl").write_text("\n".join(lines) + "\n")


def test_val_crops_of_a_plate_on_a_train_frame_are_scored_apart(tmp_path, monkeypatch) -> None:
    # given one car's plate on a train frame and a val frame (labelled once with O for 0), and
    # a val plate that no train frame shows
    write_crops(tmp_path, [
        ("CC_1_ABC1034.jpg", "train", "ABC1034"),
        ("CC_2_ABC1034.jpg", "val", "ABC1O34"),
        ("CC_3_XYZ9876.jpg", "val", "XYZ9876"),
    ])  # fmt: skip
    monkeypatch.setattr(reading, "synth_items", lambda data, per_bucket, seed: [])
    # when the benchmark's sets are drawn
    sets = reading.benchmark_sets(tmp_path, per_bucket=0, seed=2026)
    # then both val crops are in the real set, and only the unseen plate in `real_unseen`
    assert sorted(i.truth for i in sets["real"]) == ["ABC1O34", "XYZ9876"]
    assert [i.truth for i in sets["real_unseen"]] == ["XYZ9876"]


@pytest.mark.parametrize("limit", [1, 2])
def test_the_unseen_set_is_drawn_from_the_same_real_crops(tmp_path, monkeypatch, limit) -> None:
    write_crops(tmp_path, [("a.jpg", "val", "AAA1111"), ("b.jpg", "val", "BBB2222")])
    monkeypatch.setattr(reading, "synth_items", lambda data, per_bucket, seed: [])
    sets = reading.benchmark_sets(tmp_path, per_bucket=0, seed=2026, limit=limit)
    assert [i.truth for i in sets["real_unseen"]] == [i.truth for i in sets["real"]]
    assert len(sets["real"]) == limit
