from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from recognition.datasets import RealCrop
from recognition.pipeline.ocr_input import LINE_H, LINE_W
from recognition.synth.crops import FORMAT_WEIGHTS, synth_lines
from recognition.training.reader.bundle import read_bundle, write_bundle
from recognition.training.reader.train import (
    build_model,
    format_weights,
    get_args_parser,
    load_real,
    main,
    warm_start_state,
)

MODELS = Path(__file__).resolve().parents[4] / "models"


def test_a_new_reader_round_can_start_from_the_shipped_reader() -> None:
    # given the exported reader, whose keys carry EasyOCR's `module.` prefix
    exported = torch.load(MODELS / "ocr" / "platereader.pth", weights_only=True)
    assert all(key.startswith("module.") for key in exported)
    # when it seeds a fresh model
    model = build_model(MODELS / "ocr" / "platereader.onnx")
    model.load_state_dict(warm_start_state(exported), strict=True)
    # then every weight is the shipped one
    key = next(iter(model.state_dict()))
    assert torch.equal(model.state_dict()[key], exported[f"module.{key}"])


def test_a_training_checkpoint_seeds_a_model_as_before() -> None:
    # given a checkpoint as the reader's training writes it
    state = build_model(MODELS / "ocr" / "platereader.onnx").state_dict()
    # when
    loaded = warm_start_state({"model": state, "epoch": 3})
    # then its weights are taken as they are
    assert loaded is state


def test_the_synthetic_mix_can_weigh_some_formats_more() -> None:
    # given a mix that draws only transit plates
    mix = format_weights(",".join(f"{fmt}=0" for fmt in FORMAT_WEIGHTS) + ",ua_transit=1")
    # when lines are drawn from it
    rng = random.Random(3)
    drawn = {line.format for _ in range(5) for line in synth_lines(rng, weights=mix)}
    # then every one is a transit plate, and the other formats keep their weights by default
    assert drawn == {"ua_transit"}
    assert format_weights("ua_transit=4") == {**FORMAT_WEIGHTS, "ua_transit": 4.0}


def test_an_unknown_format_in_the_mix_is_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="unknown format 'ua_tranzit'"):
        format_weights("ua_tranzit=4")


def _crop(h: int, w: int, seed: int) -> np.ndarray:
    """A light plate with dark vertical strokes, a little different for each seed."""
    img = np.full((h, w, 3), 200, np.uint8)
    img[h // 4 : 3 * h // 4, seed % 5 :: 9] = 30
    return img


def test_a_bundle_keeps_each_crop_and_its_label_and_shrinks_big_crops(tmp_path: Path) -> None:
    # given a big real crop, a small one and a detector crop, in two splits
    big, small = _crop(400, 900, 1), _crop(30, 90, 2)
    splits = {
        "train": [RealCrop(big, "AA1234BB", "openalpr_endtoend", "eu")],
        "val": [RealCrop(small, "KA0101AM", "detected", "ua"), RealCrop(big, "7ABC123", "x", "us")],
    }
    # when they are packed and read back
    path = tmp_path / "crops.npz"
    assert write_bundle(path, splits) == 3
    back = read_bundle(path)
    # then labels, sources and regions are kept, split by split
    assert [(c.text, c.source, c.region) for c in back["val"]] == [
        ("KA0101AM", "detected", "ua"),
        ("7ABC123", "x", "us"),
    ]
    assert back["train"][0].text == "AA1234BB"
    # a small crop keeps its size and nearly its pixels (JPEG)
    assert back["val"][0].image.shape == small.shape
    assert np.abs(back["val"][0].image.astype(int) - small).mean() < 6
    # a big one is shrunk to twice the reader's input at most, keeping its aspect
    h, w = back["train"][0].image.shape[:2]
    assert h <= 2 * LINE_H
    assert w <= 2 * LINE_W
    assert abs(w / h - 900 / 400) < 0.05


def test_the_reader_trains_from_a_bundle_on_the_device_asked_for(tmp_path: Path) -> None:
    # given a bundle of a few labelled crops
    crops = [RealCrop(_crop(40, 160, i), "AB1234CD", "openalpr_us_crops", "us") for i in range(4)]
    bundle = tmp_path / "crops.npz"
    val = [RealCrop(c.image, "CD5678EF", c.source, c.region) for c in crops[:2]]
    write_bundle(bundle, {"train": crops, "val": val})
    # when two steps train from it, the datasets folder absent
    args = get_args_parser().parse_args(
        [
            "--data", str(tmp_path / "no-datasets"), "--bundle", str(bundle),
            "--out", str(tmp_path / "run"), "--graph", str(MODELS / "ocr" / "platereader.onnx"),
            "--init-from", str(MODELS / "ocr" / "platereader.pth"), "--device", "auto",
            "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "4", "--lr", "1e-5",
            "--workers", "0", "--val-synth", "2", "--real-fraction", "1.0",
        ]
    )  # fmt: skip
    main(args)
    # then the epoch is validated on the bundle's val crops and checkpointed
    record = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[0])
    assert record["steps"] == 2.0
    assert record["real_n"] == 2.0
    assert record["synth_ua_n"] == 2.0
    ckpt = torch.load(tmp_path / "run" / "best.pth", map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 0
    assert ckpt["args"]["bundle"] == str(bundle)


def test_no_plate_of_the_val_split_is_trained_on_from_another_photo(tmp_path: Path) -> None:
    """The crop sets are split photo by photo, and one car's plate shows on several frames."""
    import cv2

    # given the same plate on a train frame and a val frame (its label once with an O for 0),
    # and another plate on a train frame only
    folder = tmp_path / "openalpr_br_crops"
    (folder / "images").mkdir(parents=True)
    rows = [
        ("CC_1_ABC1034.jpg", "train", "ABC1034"),
        ("CC_2_ABC1034.jpg", "val", "ABC1O34"),
        ("CC_3_XYZ9876.jpg", "train", "XYZ9876"),
    ]
    lines = []
    for name, split, text in rows:
        cv2.imwrite(str(folder / "images" / name), _crop(40, 120, len(lines)))
        lines.append(json.dumps({"image": f"images/{name}", "split": split, "crop": True,
                                 "plates": [{"box": [0, 0, 120, 40], "text": text}]}))  # fmt: skip
    (folder / "labels.jsonl").write_text("\n".join(lines) + "\n")
    # when the reader's real crops are loaded, from the datasets or from a bundle of them
    train, val = load_real(get_args_parser().parse_args(["--data", str(tmp_path)]))
    bundle = tmp_path / "crops.npz"
    write_bundle(bundle, {"train": [*train, *val], "val": val})
    from_bundle, _ = load_real(get_args_parser().parse_args(["--bundle", str(bundle)]))
    # then the val plate is measured, never trained on
    assert [c.text for c in val] == ["ABC1O34"]
    assert [c.text for c in train] == ["XYZ9876"]
    assert [c.text for c in from_bundle] == ["XYZ9876"]
