from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from recognition.pipeline.rectify import corners_from_mask, quad_iou, rectify
from recognition.synth.compose import cover_box, paste, pose_corners
from recognition.synth.plates import (
    FORMATS,
    UA_LETTERS,
    UA_REGIONS,
    UK_COLOURS,
    render_plate,
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_it_renders_every_format_with_its_text(fmt):
    plate = render_plate(fmt, random.Random(7))
    assert plate.image.dtype == np.uint8
    assert plate.image.ndim == 3
    assert plate.text == "".join(plate.lines)
    assert plate.text.isalnum() and plate.text.isupper() or plate.text.isdigit()


def test_ukrainian_plates_use_real_prefixes_and_allowed_letters():
    rng = random.Random(3)
    for _ in range(200):
        text = render_plate("ua_2015", rng).text
        assert text[:2] in UA_REGIONS
        assert text[2:6].isdigit()
        assert set(text[6:]) <= set(UA_LETTERS)


def test_british_plates_follow_the_two_schemes_in_their_colours():
    rng = random.Random(4)
    backgrounds = set()
    for _ in range(100):
        plate = render_plate("uk", rng)
        text = plate.text
        assert not set(text) & set("IQ")
        if text[1].isalpha():  # AB12 CDE
            assert len(text) == 7
            assert text[2:4].isdigit()
            assert text[4:].isalpha()
        else:  # the older A123 BCD
            assert text[0].isalpha()
            assert text[1:-3].isdigit()
            assert text[-3:].isalpha()
        # The plate's middle, where no band is drawn, has one of the British colours.
        h, w = plate.image.shape[:2]
        corner = tuple(int(v) for v in plate.image[h // 2, w - 12])
        assert corner in {bg for bg, _ in UK_COLOURS}
        backgrounds.add(corner)
    assert len(backgrounds) == 3  # yellow, white and black plates all occur


def test_a_pasted_plate_reads_back_its_exact_mask_and_corners():
    rng = random.Random(11)
    scene = np.full((480, 640, 3), 90, np.uint8)
    plate = render_plate("ua_2015", rng, lines=("AA1234BB",))
    quad = pose_corners(plate.image.shape[:2], (320, 260), 220, yaw=35, pitch=10, roll=2)
    pasted = paste(scene, plate.image, quad)
    assert np.allclose(pasted.corners, quad)
    # The mask is the polygon of the corners, and its corners come back from the mask.
    polygon = np.zeros(scene.shape[:2], np.uint8)
    cv2.fillPoly(polygon, [np.round(quad).astype(np.int32)], 1)
    assert (pasted.mask != polygon).sum() < 0.01 * polygon.sum()
    found, from_mask = corners_from_mask(pasted.mask, (*quad.min(0), *quad.max(0)))
    assert from_mask
    assert quad_iou(found, quad) > 0.95
    # Straightening the scene with the labelled corners gives the plate back.
    crop = rectify(scene, quad, size=(plate.image.shape[1] // 4, plate.image.shape[0] // 4))
    small = cv2.resize(plate.image, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(crop.astype(int) - small.astype(int)).mean() < 25


def test_a_cover_plate_hides_the_labelled_box():
    rng = random.Random(5)
    box = (100.0, 200.0, 220.0, 230.0)
    for _ in range(20):
        quad = cover_box(box, (224, 1040), rng)
        (x1, y1), (x2, y2) = quad.min(0), quad.max(0)
        assert x1 <= box[0]
        assert y1 <= box[1]
        assert x2 >= box[2]
        assert y2 >= box[3]
