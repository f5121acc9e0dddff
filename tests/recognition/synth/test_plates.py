from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition import datasets
from recognition.synth.angle_set import UA_TYPE_MAX_YAW, ua_type_set
from recognition.synth.crops import FORMAT_WEIGHTS, synth_lines
from recognition.synth.plates import FORMATS, MULTI_ROW, UA_TYPES, render_plate

DATA = Path(__file__).resolve().parents[4] / "shared" / "datasets"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_its_rows_where_it_says(fmt: str) -> None:
    plate = render_plate(fmt, random.Random(2))
    assert plate.text == "".join(plate.lines)
    assert len(plate.row_boxes) == len(plate.lines)
    h = plate.image.shape[0]
    assert all(0 <= a < b <= h for a, b in plate.row_boxes)
    assert len(plate.row_fractions) == len(plate.lines) - 1


def test_multi_row_formats_are_the_square_and_motorcycle_plates() -> None:
    for fmt in FORMATS:
        rows = len(render_plate(fmt, random.Random(1)).lines)
        assert (rows > 1) == (fmt in MULTI_ROW)
    assert len(render_plate("ua_moto", random.Random(1)).lines) == 3


def test_transit_and_diplomatic_plates_are_white_on_red() -> None:
    for fmt in ("ua_transit", "ua_diplomatic"):
        image = render_plate(fmt, random.Random(5)).image
        r, g, b = (int(v) for v in np.median(image.reshape(-1, 3), axis=0))
        assert r > 150
        assert max(g, b) < 80


def test_training_lines_cover_every_format() -> None:
    assert set(FORMAT_WEIGHTS) == set(FORMATS)
    rng = random.Random(6)
    seen = Counter(s.format for _ in range(400) for s in synth_lines(rng))
    assert set(seen) == set(FORMATS)


def test_a_given_text_is_drawn_as_given() -> None:
    plate = render_plate("ua_1995_square", random.Random(3), lines=("12345", "KA"))
    assert (plate.text, plate.lines) == ("12345KA", ("12345", "KA"))


@pytest.mark.skipif(not DATA.exists(), reason="../shared/datasets is not beside the checkout")
def test_the_ukrainian_type_set_holds_every_type_at_yaw_up_to_60() -> None:
    samples = list(ua_type_set(DATA, per_type=2, seed=4))
    assert Counter(s.format for s in samples) == dict.fromkeys(UA_TYPES, 2)
    assert all(0 <= s.yaw <= UA_TYPE_MAX_YAW for s in samples)
    assert {s.rows for s in samples} == {1, 2, 3}
    again = list(ua_type_set(DATA, per_type=2, seed=4))
    assert [s.text for s in again] == [s.text for s in samples]
    assert np.array_equal(again[0].image, samples[0].image)


def _scene_showing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plate_box: tuple[float, ...]
) -> None:
    """The only scene of the sets: an 800 x 600 photo with one labelled plate at `plate_box`."""
    cv2.imwrite(str(tmp_path / "scene.jpg"), np.full((600, 800, 3), 90, np.uint8))
    scene = datasets.SceneRecord(tmp_path / "scene.jpg", "test", (plate_box,), ("AA1234BB",))
    monkeypatch.setattr(datasets, "load_records", lambda root, split: [scene])


def _clear_of(box: np.ndarray, plate_box: tuple[float, ...]) -> bool:
    """Whether `box` neither covers nor touches `plate_box`."""
    x1, y1, x2, y2 = plate_box
    bx1, by1, bx2, by2 = box
    return bool(bx2 <= x1 or bx1 >= x2 or by2 <= y1 or by1 >= y2)


@pytest.mark.parametrize(
    "plate_box",
    [
        # where a pasted plate would most often land
        (330.0, 330.0, 470.0, 370.0),
        # a close-up: the plate covers every centre the usual places offer
        (150.0, 200.0, 650.0, 520.0),
    ],
    ids=["central", "close-up"],
)
def test_a_synthetic_plate_is_pasted_clear_of_the_plates_the_scene_already_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plate_box: tuple[float, ...]
) -> None:
    # given a scene with a labelled plate
    _scene_showing(tmp_path, monkeypatch, plate_box)
    # when synthetic plates of every type are pasted into it
    samples = list(ua_type_set(tmp_path, per_type=2, seed=6))
    # then none of them covers or touches the scene's own plate, and each lies inside the frame
    assert all(_clear_of(s.box, plate_box) for s in samples)
    assert all(s.box.min() >= 0 and s.box[2] <= 800 and s.box[3] <= 600 for s in samples)
    # and the same seed gives the same photos
    again = list(ua_type_set(tmp_path, per_type=2, seed=6))
    assert all(np.array_equal(a.image, s.image) for a, s in zip(again, samples, strict=True))
