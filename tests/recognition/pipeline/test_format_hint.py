from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from recognition.pipeline.format_hint import format_hint
from recognition.pipeline.rectify import SQUARE_SIZE, WIDE_SIZE
from recognition.synth.plates import MULTI_ROW, render_plate


def crops(fmt: str, n: int = 10) -> list:
    rng = random.Random(12)
    size = SQUARE_SIZE if fmt in (*MULTI_ROW, "us") else WIDE_SIZE
    return [cv2.resize(render_plate(fmt, rng).image, size) for _ in range(n)]


@pytest.mark.parametrize("fmt", ["ua_transit", "ua_diplomatic"])
def test_a_red_plate_favours_the_red_ukrainian_formats(fmt: str) -> None:
    for crop in crops(fmt):
        priors = format_hint(crop).priors
        assert priors[fmt] == max(priors.values())
        assert priors["ua_2015"] < priors[fmt]


def slanted(crop: np.ndarray, tilt: float) -> np.ndarray:
    """The crop as a rectifier cuts it from a mask at a slant: the plate turned inside it, the
    dark car behind showing in its corners."""
    h, w = crop.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
    return cv2.warpAffine(crop, turn, (w, h), borderValue=(25, 25, 30))


@pytest.mark.parametrize("fmt", ["ua_transit", "ua_diplomatic"])
def test_a_red_plate_cut_at_a_slant_still_looks_red(fmt: str) -> None:
    # The strips above and below the characters then show the car more than the plate.
    for crop in crops(fmt):
        priors = format_hint(slanted(crop, 9.0)).priors
        assert priors[fmt] == max(priors.values())


@pytest.mark.parametrize("fmt", ["us", "ua_2015", "pl", "ua_square"])
def test_other_plates_do_not_look_red(fmt: str) -> None:
    # (US plates with red characters included)
    for crop in crops(fmt):
        priors = format_hint(crop).priors
        assert priors["ua_transit"] < max(priors.values())


def test_plates_of_several_rows_are_square_crops() -> None:
    for fmt in MULTI_ROW:
        assert all(format_hint(c).two_line for c in crops(fmt, 3))
    assert not any(format_hint(c).two_line for c in crops("ua_2015", 3))


def test_a_trailer_ranks_below_the_car_plate_it_looks_like() -> None:
    for crop in crops("ua_trailer", 3):
        priors = format_hint(crop).priors
        assert priors["ua_trailer"] < min(priors["ua_2015"], priors["ua_2004"])


def with_car_beside(
    crop: np.ndarray, colour: tuple[int, int, int], share: float = 0.15
) -> np.ndarray:
    """The crop as the rectifier cuts a plate it extends to its format's length: the car's body
    shows beside both ends of the plate, `share` of the width each side."""
    h, w = crop.shape[:2]
    side = int(share * w)
    body = np.full((h, side, 3), colour, np.uint8)
    return cv2.resize(np.hstack([body, crop, body]), (w, h))


@pytest.mark.parametrize("fmt", ["ua_2015", "ua_2004"])
def test_the_flag_band_is_found_with_the_car_beside_the_plate(fmt: str) -> None:
    for crop in crops(fmt):
        priors = format_hint(with_car_beside(crop, (70, 60, 75))).priors
        assert priors["ua_2015"] == max(priors.values())
        assert priors["eu"] < priors["ua_2015"]


def plain_plate(text: str = "AB 1234 CD") -> np.ndarray:
    """A white one-row plate with black characters and no band."""
    w, h = WIDE_SIZE
    crop = np.full((h, w, 3), 235, np.uint8)
    cv2.putText(crop, text, (12, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (15, 15, 15), 2)
    return crop


def test_a_blue_car_beside_a_plate_is_no_band() -> None:
    alone = format_hint(plain_plate()).priors
    beside = format_hint(with_car_beside(plain_plate(), (30, 60, 170), share=0.25)).priors
    assert beside == alone
    assert alone["ua_2004"] > alone["ua_2015"]  # no band seen, as on a 2004 plate


def test_moldovas_flag_band_keeps_its_plates_first_among_europes() -> None:
    # its band holds a flag with yellow in it, as Ukraine's does
    for crop in crops("md", 5):
        priors = format_hint(crop).priors
        assert priors["md"] > priors["pl"]
