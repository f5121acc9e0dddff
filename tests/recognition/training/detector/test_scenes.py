"""Detector training scenes: hidden (privacy-blurred) plates and the size of new plates."""

from __future__ import annotations

import json
import random

import cv2
import numpy as np
import pytest

from recognition.datasets import load_records
from recognition.synth.degrade import privacy_blur
from recognition.synth.distractors import ALL_KINDS
from recognition.synth.plates import render_plate
from recognition.training.detector.scenes import PlateSceneDataset


def _detail(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def test_a_hidden_plate_keeps_its_size_and_loses_its_characters() -> None:
    rng = random.Random(4)
    seen_blocky = seen_smooth = False
    for _ in range(30):
        plate = render_plate("ua_2015", rng).image
        hidden = privacy_blur(plate, rng)
        assert hidden.shape == plate.shape
        assert hidden.dtype == np.uint8
        # Character strokes are the plate's fine detail; hiding removes nearly all of it.
        assert _detail(hidden) < 0.2 * _detail(plate)
        # The plate's overall colour survives, so it still looks like a plate-shaped patch.
        assert abs(float(hidden.mean()) - float(plate.mean())) < 25
        rows_equal = np.mean(np.all(hidden[1:] == hidden[:-1], axis=(1, 2)))
        seen_blocky |= rows_equal > 0.8
        seen_smooth |= rows_equal < 0.5
    assert seen_blocky  # pixelation is drawn ...
    assert seen_smooth  # ... and so is blur


@pytest.fixture
def scenes(tmp_path):
    folder = tmp_path / "romanian_dashcam"
    (folder / "images").mkdir(parents=True)
    rows = []
    for i in range(6):
        scene = np.full((480, 800, 3), 60 + 20 * i, np.uint8)
        cv2.imwrite(str(folder / "images" / f"s{i}.jpg"), scene)
        box = [300, 300, 420, 330]
        rows.append({"image": f"images/s{i}.jpg", "width": 800, "height": 480, "split": "train",
                     "plates": [{"box": box, "quad": None, "text": None}]})  # fmt: skip
    (folder / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return load_records(tmp_path, "train")


def test_new_plates_are_pasted_at_the_asked_sizes(scenes) -> None:
    ds = PlateSceneDataset(scenes, seed=3, p_cover=0.0, max_new=2, new_width=(0.02, 0.05))
    widths = []
    for epoch in range(4):
        ds.epoch = epoch
        for i in range(len(ds)):
            image, target = ds[i]
            boxes = target["boxes"].numpy()
            assert len(boxes) == len(target["masks"]) >= 1
            for box, mask in zip(boxes, target["masks"].numpy(), strict=True):
                x1, y1, x2, y2 = np.round(box).astype(int)
                assert mask[y1 : y2 + 1, x1 : x2 + 1].sum() >= 0.5 * mask.sum() > 0
            # The labelled plate comes first (left as it is: p_cover is 0), new plates after it.
            assert boxes[0][2] - boxes[0][0] == pytest.approx(120, abs=1)
            widths += [b[2] - b[0] for b in boxes[1:]]
    assert widths, "no plate was pasted"
    w = image.shape[-1]
    assert max(widths) <= 0.05 * w + 2
    assert min(widths) >= 0.3 * 0.02 * w  # a steep yaw narrows the box, never this much


def _new_plate_widths(ds: PlateSceneDataset, epochs: int) -> list[float]:
    widths = []
    for epoch in range(epochs):
        ds.epoch = epoch
        for i in range(len(ds)):
            image, target = ds[i]
            boxes = target["boxes"].numpy()[1:]  # the labelled plate first, new plates after it
            widths += [(b[2] - b[0]) / image.shape[-1] for b in boxes]
    return widths


def test_a_uniform_share_of_sizes_brings_back_large_plates(scenes) -> None:
    kw = {"seed": 5, "p_cover": 0.0, "max_new": 3, "new_width": (0.02, 0.3)}
    log_only = _new_plate_widths(PlateSceneDataset(scenes, **kw), 8)
    mixed = _new_plate_widths(PlateSceneDataset(scenes, log_share=0.0, **kw), 8)
    assert len(log_only) > 20
    assert len(mixed) > 20
    assert max(mixed) <= 0.3 + 0.01
    # Log-uniform over 2-30 % has its median near 7.7 %, uniform near 16 %; poses narrow boxes.
    assert np.median(log_only) < 0.09
    assert np.median(mixed) > 0.11
    # Up to 3 new plates per scene, and at times all 3 are placed.
    ds = PlateSceneDataset(scenes, **kw)
    counts = []
    for epoch in range(8):
        ds.epoch = epoch
        counts += [len(ds[i][1]["boxes"]) - 1 for i in range(len(ds))]
    assert max(counts) == 3


def test_the_operating_threshold_keeps_the_promised_recall_at_steep_angles() -> None:
    from recognition.training.detector.train import recall_keeping_threshold

    rng = random.Random(9)
    scores = [rng.uniform(0.5, 1.0) for _ in range(38)] + [0.0, 0.0]  # two plates never found
    t = recall_keeping_threshold(scores, 0.95)
    recall = np.mean([s >= t for s in scores])
    assert recall >= 0.95
    assert np.mean([s >= t + 1e-6 for s in scores]) < 0.95  # and no higher threshold would do
    # A floor that the misses already break leaves only "everything the network reports".
    assert recall_keeping_threshold(scores, 1.0) == 0.0
    with pytest.raises(ValueError, match="no plates"):
        recall_keeping_threshold([], 0.95)


def test_checkpoints_average_element_wise_and_refuse_other_shapes() -> None:
    import torch

    from recognition.training.detector.average_weights import average

    a = {"w": torch.tensor([1.0, 3.0]), "n": torch.tensor(7)}
    b = {"w": torch.tensor([3.0, 5.0]), "n": torch.tensor(9)}
    out = average([a, b])
    assert torch.equal(out["w"], torch.tensor([2.0, 4.0]))
    assert int(out["n"]) == 7  # counters are not averaged
    with pytest.raises(ValueError, match="different architectures"):
        average([a, {"w": torch.tensor([1.0, 1.0])}])


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_distractor_is_drawn_inside_its_box_only(kind) -> None:
    from recognition.synth.distractors import distractor_box, draw_distractor

    rng = random.Random(11)
    for _ in range(5):
        scene = np.full((480, 800, 3), 40, np.uint8)
        box = distractor_box(kind, scene.shape[:2], rng)
        x1, y1, x2, y2 = box
        assert 0 <= x1 < x2 <= 800
        assert 0 <= y1 < y2 <= 480
        draw_distractor(scene, box, kind, rng)
        changed = np.any(scene != 40, axis=2)
        assert changed.sum() > 20, "nothing was drawn"
        ys, xs = np.nonzero(changed)
        # Lights bloom a little past their bulbs; patches stay inside the box.
        glows = ("light_string", "lamp_pair", "lamp_block", "lit_sign")
        slack = 0.5 * (y2 - y1) + 30 if kind in glows else 1
        assert xs.min() >= x1 - slack
        assert xs.max() <= x2 + slack
        assert ys.min() >= y1 - slack
        assert ys.max() <= y2 + slack


def test_distractors_add_no_labels_and_keep_off_the_plates(scenes) -> None:
    import torch

    from recognition.synth.distractors import draw_distractor

    # given the same scenes with and without look-alikes
    plain = PlateSceneDataset(scenes, seed=2, p_cover=0.0, max_new=0)
    busy = PlateSceneDataset(scenes, seed=2, p_cover=0.0, max_new=0, p_distractor=1.0)
    for i in range(len(scenes)):
        (a, ta), (b, tb) = plain[i], busy[i]
        # then a look-alike is background: the labels are the same, the pixels are not
        assert torch.equal(ta["boxes"], tb["boxes"])
        assert torch.equal(ta["masks"], tb["masks"])
        assert not torch.equal(a, b)
    # and a look-alike is never drawn over a plate (a lamp's glow may reach it, as it does)
    rng = random.Random(8)
    plate_box = np.array([300, 300, 420, 330], np.float32)
    drawn = 0
    for _ in range(200):
        image = np.full((480, 800, 3), 40, np.uint8)
        busy._draw_distractor(image, [plate_box], rng)
        drawn += int(np.any(image != 40))
        assert np.abs(image[300:330, 300:420].astype(int) - 40).mean() < 12
    assert drawn > 150
    with pytest.raises(ValueError, match="unknown distractor"):
        draw_distractor(np.zeros((10, 10, 3), np.uint8), np.array([0, 0, 5, 5]), "tree", rng)


def test_the_training_data_options_keep_earlier_rounds_defaults() -> None:
    from recognition.synth.distractors import KINDS
    from recognition.training.detector.scenes import PASTE_FORMATS
    from recognition.training.detector.train import get_args_parser

    parser = get_args_parser()
    # Earlier rounds' commands name neither option, so they draw the same data as before.
    args = parser.parse_args(["--data", "d"])
    assert tuple(args.paste_formats) == PASTE_FORMATS
    assert tuple(args.distractor_kinds) == KINDS
    assert "uk" not in PASTE_FORMATS
    args = parser.parse_args(
        ["--data", "d", "--paste-formats", "ua_2015", "uk", "uk", "--distractor-kinds", "lit_sign"]
    )
    assert args.paste_formats == ["ua_2015", "uk", "uk"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", "d", "--paste-formats", "xx"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", "d", "--distractor-kinds", "cloud"])


def test_glowing_look_alikes_are_background_in_training_scenes(scenes) -> None:
    import torch

    plain = PlateSceneDataset(scenes, seed=4, p_cover=0.0, max_new=0)
    glowing = PlateSceneDataset(
        scenes, seed=4, p_cover=0.0, max_new=0, p_distractor=1.0,
        distractor_kinds=("lamp_block", "lit_sign"),
    )  # fmt: skip
    for i in range(len(scenes)):
        (a, ta), (b, tb) = plain[i], glowing[i]
        assert torch.equal(ta["boxes"], tb["boxes"])
        assert not torch.equal(a, b)
