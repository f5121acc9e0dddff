"""Where a plate may be (`PhotoResult.areas`): what the copy fit to publish hides.

The first tests use the detector and recogniser doubles at the edge (networks); the last runs the
shipped weights on a rendered plate and reads the hidden copy again.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from recognition.pipeline.engine import HIDE_MIN_SCORE, load_engine
from recognition.pipeline.redact import hidden_mask, hide_plates
from recognition.synth.compose import paste, pose_corners
from recognition.synth.plates import render_plate
from tests.recognition.pipeline.test_engine_regions import engine, photo_with


def test_a_plate_from_outside_the_regions_is_not_reported_but_is_hidden() -> None:
    image, corners, text = photo_with("pl")
    result = engine(corners, [text], "ua").recognize_batch([image])[0]
    assert result.plates == ()
    (area,) = result.areas
    assert area.read is False
    assert area.score == pytest.approx(0.95)
    np.testing.assert_allclose(np.array(area.corners), corners, atol=0.5)


def test_a_read_plate_is_hidden_by_its_reported_outline() -> None:
    image, corners, text = photo_with("ua_2015")
    result = engine(corners, [text], "ua,eu").recognize_batch([image])[0]
    (plate,) = result.plates
    (area,) = result.areas
    assert area.read is True
    assert area.corners == plate.corners


def test_a_weak_detection_that_reads_as_no_plate_is_left_visible() -> None:
    image, corners, _ = photo_with("ua_2015")
    weak = engine(corners, ["TOYOTA"], "ua,eu")
    weak.hide_min_score = 0.99  # the double scores its detection 0.95
    assert weak.recognize_batch([image])[0].areas == ()
    shipped = engine(corners, ["TOYOTA"], "ua,eu")
    assert shipped.hide_min_score == HIDE_MIN_SCORE < 0.95
    assert [a.read for a in shipped.recognize_batch([image])[0].areas] == [False]


@pytest.fixture(scope="module")
def real_engine():  # type: ignore[no-untyped-def]
    return load_engine(regions="ua,eu")


def test_the_shipped_engine_cannot_read_a_plate_it_hid(real_engine) -> None:  # type: ignore[no-untyped-def]
    photo = np.random.default_rng(5).integers(60, 140, (480, 640, 3), dtype=np.uint8)
    plate = render_plate("ua_2015", random.Random(11))
    quad = pose_corners(plate.image.shape[:2], (330, 300), 240, yaw=15, pitch=5)
    paste(photo, plate.image, quad)  # in place
    result = real_engine.recognize_batch([photo])[0]
    assert [p.text for p in result.plates] == [plate.text]  # readable before
    quads = [a.corners for a in result.areas]
    assert hidden_mask(photo.shape, quads)[quad[:, 1].astype(int), quad[:, 0].astype(int)].all()
    hidden = real_engine.recognize_batch([hide_plates(photo, quads)])[0]
    assert plate.text not in [p.text for p in hidden.plates]
    assert plate.text not in [r.text for r in hidden.rejected]
