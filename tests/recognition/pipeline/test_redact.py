"""Hiding plates in a copy fit to publish (recognition/pipeline/redact.py)."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.pipeline.redact import HIDE_MARGIN, grown, hidden_mask, hide_plates

PLATE = ((60.0, 50.0), (160.0, 50.0), (160.0, 72.0), (60.0, 72.0))  # 100 x 22, upright


def noise(height: int = 140, width: int = 220, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_an_outline_grows_along_the_plates_own_axes():
    slanted = np.array([[10, 10], [110, 30], [110, 52], [10, 32]], np.float32)
    out = grown(slanted, margin=0.5)
    # 22 px high: 11 px out on every side, along the plate's slant.
    across = np.array([100, 20]) / np.hypot(100, 20)
    down = np.array([0, 22]) / 22
    np.testing.assert_allclose(out[0], slanted[0] - 11 * across - 11 * down, atol=1e-3)
    np.testing.assert_allclose(out[2], slanted[2] + 11 * across + 11 * down, atol=1e-3)


def test_a_point_or_sliver_is_hidden_as_a_small_box():
    out = grown(np.array([[40, 40]] * 4, np.float32))
    assert out[:, 0].min() < 40 < out[:, 0].max()
    assert out[:, 1].min() < 40 < out[:, 1].max()


def test_blur_wipes_the_plate_and_leaves_the_rest_alone():
    image = noise()
    copy = hide_plates(image, [PLATE])
    mask = hidden_mask(image.shape, [PLATE])
    inner = (slice(52, 70), slice(62, 158))
    # Noise has a pixel-to-pixel spread of ~100 levels; the coarse blocks, smoothed, almost none.
    assert np.abs(np.diff(image[inner].astype(int), axis=1)).mean() > 60
    assert np.abs(np.diff(copy[inner].astype(int), axis=1)).mean() < 8
    np.testing.assert_array_equal(copy[~mask], image[~mask])
    assert mask[50 - 5, 110]  # grown by 0.25 x 22 px, no more
    assert not mask[50 - 7, 110]


def test_fill_paints_the_area_in_one_colour():
    image = noise()
    copy = hide_plates(image, [PLATE], style="fill")
    mask = hidden_mask(image.shape, [PLATE])
    assert len(np.unique(copy[mask].reshape(-1, 3), axis=0)) == 1
    np.testing.assert_array_equal(copy[~mask], image[~mask])


def test_areas_past_the_photos_edge_or_broken_are_handled():
    image = noise(60, 80)
    edge = ((-30.0, -10.0), (40.0, -10.0), (40.0, 20.0), (-30.0, 20.0))
    broken = ((float("nan"), 1.0), (2.0, 3.0), (4.0, 5.0), (6.0, 7.0))
    far = ((500.0, 500.0), (600.0, 500.0), (600.0, 520.0), (500.0, 520.0))
    copy = hide_plates(image, [edge, broken, far])
    assert copy.shape == image.shape
    assert not np.array_equal(copy[:15, :30], image[:15, :30])
    np.testing.assert_array_equal(copy[40:, 60:], image[40:, 60:])


def test_nothing_to_hide_is_the_photo_unchanged_and_unknown_styles_refused():
    image = noise(30, 40)
    np.testing.assert_array_equal(hide_plates(image, []), image)
    assert hide_plates(image, []) is not image  # a copy, never the caller's array
    with pytest.raises(ValueError, match="style"):
        hide_plates(image, [PLATE], style="swirl")


def test_the_margin_is_what_the_mask_shows():
    shape = (140, 220, 3)
    small = hidden_mask(shape, [PLATE], margin=0.1).sum()
    shipped = hidden_mask(shape, [PLATE], margin=HIDE_MARGIN).sum()
    assert small < shipped
