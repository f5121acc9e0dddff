"""Loading the labelled sets: scene photos with boxes, plate crops with cleaned texts."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.datasets import (
    MAX_SIDE,
    load_detected_crops,
    load_real_crops,
    load_records,
    read_rgb,
)


def write_set(root: Path, name: str, rows: list[dict], size: tuple[int, int] = (60, 120)) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    for row in rows:
        cv2.imwrite(str(folder / row["image"]), np.full((*size, 3), 90, np.uint8))
    (folder / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_scene_records_keep_one_split_of_whole_photos_with_boxed_plates(tmp_path) -> None:
    # given a val photo with a boxed and an unboxed plate, a train photo and a crop row
    box = [10, 10, 50, 30]
    write_set(tmp_path, "openalpr_endtoend", [
        {"image": "a.png", "split": "val", "region": "us-ca",
         "plates": [{"box": box, "text": "ABC123"}, {"text": "NOBOX1"}]},
        {"image": "b.png", "split": "train", "plates": [{"box": box, "text": "X"}]},
        {"image": "c.png", "split": "val", "crop": True, "plates": [{"box": box}]},
    ])  # fmt: skip
    # when
    records = load_records(tmp_path, "val")
    # then
    assert [(r.path.name, r.boxes, r.texts, r.region) for r in records] == [
        ("a.png", (tuple(box),), ("ABC123",), "us-ca")
    ]


def test_a_large_photo_is_shrunk_and_says_by_how_much(tmp_path) -> None:
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), np.zeros((MAX_SIDE, MAX_SIDE * 2, 3), np.uint8))
    image, scale = read_rgb(path)
    assert scale == pytest.approx(0.5)
    assert image.shape == (MAX_SIDE // 2, MAX_SIDE, 3)


def test_an_undecodable_photo_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot decode"):
        read_rgb(path)


def test_real_crops_keep_readable_texts_only_with_their_region(tmp_path) -> None:
    # given a crop set row with a lower-case, spaced text and one with characters out of the set
    write_set(tmp_path, "openalpr_br_crops", [
        {"image": "a.png", "split": "val", "crop": True,
         "plates": [{"box": [0, 0, 120, 60], "text": "abc 1d23"}]},
        {"image": "b.png", "split": "val", "crop": True,
         "plates": [{"box": [0, 0, 120, 60], "text": "ÄBC123"}]},
    ])  # fmt: skip
    # when
    crops = load_real_crops(tmp_path, "val")
    # then
    assert [(c.text, c.source, c.region, c.image.shape) for c in crops] == [
        ("ABC1D23", "openalpr_br_crops", "br", (60, 120, 3))
    ]


def test_missing_detected_crops_say_how_to_make_them(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="recognition.training.reader.detected_crops"):
        load_detected_crops(tmp_path / "nowhere")
