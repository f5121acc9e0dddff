from __future__ import annotations

import functools
import itertools
import random

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recognition.pipeline.engine import crop_shape
from recognition.pipeline.rectify import (
    RED_PART_SHARE,
    RED_SHARE,
    SQUARE_SIZE,
    US_PLATES,
    WIDE_PLATES,
    WIDE_SIZE,
    CropShape,
    box_corners,
    corners_from_mask,
    grow_corners,
    grow_to_aspect,
    is_square,
    order_corners,
    plate_crop,
    plate_cut,
    quad_iou,
    rectify,
    red_plate_ends,
    red_plate_outline,
    red_plate_quad,
    red_share,
)
from recognition.pipeline.regions import region_formats
from recognition.synth.plates import render_plate

PLATE = np.array([[40, 60], [240, 70], [236, 112], [44, 104]], np.float32)


def _rotate(
    points: np.ndarray, degrees: float, centre: tuple[float, float] = (140, 86)
) -> np.ndarray:
    m = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return (np.c_[points, np.ones(4)] @ m.T).astype(np.float32)


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))))
def test_it_orders_corners_whatever_the_input_order(perm):
    assert np.allclose(order_corners(PLATE[list(perm)]), PLATE)


@pytest.mark.parametrize("degrees", [-40, -20, -5, 0, 5, 20, 40])
def test_it_keeps_the_top_edge_first_under_rotation(degrees):
    rotated = _rotate(PLATE, degrees)
    assert np.allclose(order_corners(rotated[::-1]), rotated, atol=1e-3)


def test_it_orders_a_mirrored_quadrilateral():
    mirrored = PLATE.copy()
    mirrored[:, 0] = (
        300 - mirrored[:, 0]
    )  # a horizontal flip turns clockwise into counter-clockwise
    ordered = order_corners(mirrored)
    assert ordered[0][0] < ordered[1][0]  # TL left of TR
    assert ordered[0][1] < ordered[3][1]  # TL above BL
    assert ordered[1][1] < ordered[2][1]  # TR above BR


def _mask(quad: np.ndarray, shape=(200, 300)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 1)
    return mask


def _box(quad: np.ndarray) -> tuple[float, float, float, float]:
    (x1, y1), (x2, y2) = quad.min(0), quad.max(0)
    return float(x1), float(y1), float(x2), float(y2)


def test_it_finds_the_corners_of_a_perspective_mask():
    corners, from_mask = corners_from_mask(_mask(PLATE), _box(PLATE))
    assert from_mask
    assert quad_iou(corners, PLATE) > 0.95


def test_it_joins_a_fragmented_mask():
    mask = _mask(PLATE)
    mask[:, 120:126] = 0  # a bolt or glare splits the plate in two
    corners, from_mask = corners_from_mask(mask, _box(PLATE))
    assert from_mask
    assert quad_iou(corners, PLATE) > 0.93


def test_it_keeps_the_visible_part_of_a_clipped_mask():
    shifted = PLATE + np.array([-60, 0], np.float32)  # the left end leaves the frame
    corners, from_mask = corners_from_mask(_mask(shifted), (0.0, *_box(shifted)[1:]))
    assert from_mask
    assert corners[:, 0].min() >= 0
    assert quad_iou(corners, np.clip(shifted, 0, None)) > 0.9


def test_it_falls_back_to_the_box_when_the_mask_is_unusable():
    box = _box(PLATE)
    speck = np.zeros((200, 300), np.uint8)
    speck[80:83, 100:103] = 1
    corners, from_mask = corners_from_mask(speck, box)
    assert not from_mask
    assert np.allclose(
        corners, [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]
    )


def test_rectify_maps_the_corners_to_the_crop_corners():
    image = np.zeros((200, 300, 3), np.uint8)
    cv2.fillPoly(image, [np.round(PLATE).astype(np.int32)], (255, 255, 255))
    marker = PLATE[0] + np.array([6, 3])  # a dark dot just inside the top-left corner
    cv2.circle(image, tuple(int(v) for v in marker), 2, (255, 0, 0), -1)
    crop = rectify(image, PLATE)
    assert crop.shape == (WIDE_SIZE[1], WIDE_SIZE[0], 3)
    assert crop[:, :, 1].mean() > 200  # the plate fills the crop
    red = np.argwhere((crop[:, :, 0] > 150) & (crop[:, :, 1] < 100))
    assert len(red)
    assert red[:, 1].mean() < WIDE_SIZE[0] * 0.2
    assert red[:, 0].mean() < WIDE_SIZE[1] * 0.5


def test_rectify_uses_the_square_size_for_two_line_plates():
    square = np.array([[50, 50], [190, 50], [190, 150], [50, 150]], np.float32)
    assert is_square(square)
    assert rectify(np.zeros((200, 300, 3), np.uint8), square).shape == (
        SQUARE_SIZE[1],
        SQUARE_SIZE[0],
        3,
    )


def test_grow_corners_widens_each_side_by_its_share():
    square = np.array([[10, 10], [110, 10], [110, 30], [10, 30]], np.float32)
    grown = grow_corners(square, 0.1, 0.25)
    assert np.allclose(grown, [[0, 5], [120, 5], [120, 35], [0, 35]])


def _width_height(corners: np.ndarray) -> tuple[float, float]:
    tl, tr, _, bl = np.asarray(corners, np.float32)
    return float(np.linalg.norm(tr - tl)), float(np.linalg.norm(bl - tl))


def test_a_one_line_plate_clipped_by_its_mask_is_lengthened_on_both_sides() -> None:
    # given a mask that stops short: 350 x 100 px where the plate is 4.6:1
    clipped = np.array([[100, 50], [450, 50], [450, 150], [100, 150]], np.float32)
    # when
    grown = grow_to_aspect(clipped, 4.6, max_grow=0.5)
    # then it is 4.6:1, centred where it was, and as tall as before
    width, height = _width_height(grown)
    assert width / height == pytest.approx(4.6, rel=1e-3)
    assert height == pytest.approx(100)
    assert grown[:, 0].mean() == pytest.approx(clipped[:, 0].mean())


def test_lengthening_is_bounded_and_leaves_square_and_whole_plates_alone() -> None:
    clipped = np.array([[100, 50], [350, 50], [350, 150], [100, 150]], np.float32)  # 2.5:1
    square = np.array([[0, 0], [140, 0], [140, 100], [0, 100]], np.float32)
    whole = np.array([[0, 0], [470, 0], [470, 100], [0, 100]], np.float32)
    width, _ = _width_height(grow_to_aspect(clipped, 4.6, max_grow=0.3))
    assert width == pytest.approx(250 * 1.3)
    np.testing.assert_array_equal(grow_to_aspect(square, 4.6, max_grow=0.3), square)
    np.testing.assert_array_equal(grow_to_aspect(whole, 4.6, max_grow=0.3), whole)


def test_the_engine_crop_holds_characters_the_mask_cut_off() -> None:
    # given a photo whose plate spans x 100..560 and a detection clipped to x 160..560; the
    # missing end is not known, so half of the missing 60 px is added on each side
    image = np.full((300, 700, 3), 255, np.uint8)
    image[100:200, 135:145] = 0  # a dark first character just inside the plate's left end
    clipped = np.array([[160, 100], [560, 100], [560, 200], [160, 200]], np.float32)
    # when the engine cuts its crop, with and without lengthening
    without = plate_crop(image, clipped, (0.0, 0.0), CropShape(grow=0.0))
    with_grow = plate_crop(image, clipped, (0.0, 0.0), WIDE_PLATES)
    # then only the lengthened crop holds the dark character
    assert without.min() == 255
    assert with_grow.min() < 50


def test_a_us_plate_clipped_by_its_mask_is_lengthened_though_square() -> None:
    # given a US plate (2:1) whose mask stops short: 140 x 100 px, square to the European cut
    image = np.full((300, 500, 3), 255, np.uint8)
    image[100:200, 172:178] = 0  # a dark first character just left of the mask
    clipped = np.array([[180, 100], [320, 100], [320, 200], [180, 200]], np.float32)
    assert is_square(clipped)
    # when cut as a European plate, and as a US one
    wide = plate_cut(image, clipped, (0.0, 0.0), WIDE_PLATES)
    us = plate_cut(image, clipped, (0.0, 0.0), US_PLATES)
    # then the European cut keeps the square (a two-row plate there) and misses the character;
    # the US one is lengthened by its cap, a fifth, and holds it
    np.testing.assert_allclose(wide.quad, clipped)
    assert wide.crop.min() == 255
    width, _ = _width_height(us.quad)
    assert width == pytest.approx(140 * 1.2)
    assert us.crop.min() < 50


def test_a_us_plate_lengthened_past_the_square_aspect_is_read_as_one_line() -> None:
    image = np.full((300, 500, 3), 255, np.uint8)
    nearly = np.array([[100, 100], [310, 100], [310, 200], [100, 200]], np.float32)  # 2.1:1
    assert plate_cut(image, nearly, (0.0, 0.0), WIDE_PLATES).crop.shape[:2] == SQUARE_SIZE[::-1]
    us = plate_cut(image, nearly, (0.0, 0.0), US_PLATES)
    width, height = _width_height(us.quad)
    # towards 2.4 first, then lengthened on by the one-line cap
    assert width / height == pytest.approx(2.4 * (1 + WIDE_PLATES.grow), rel=1e-3)
    assert us.crop.shape[:2] == WIDE_SIZE[::-1]


def test_us_plates_alone_get_the_us_cut() -> None:
    assert crop_shape(region_formats("us")) == US_PLATES
    assert crop_shape(region_formats("ua,eu")) == WIDE_PLATES
    assert crop_shape(region_formats("us,br")) == WIDE_PLATES


# --- a white-on-red plate's ends, from its background ------------------------------------------


def _red_plate_scene(
    fmt: str, lines: tuple[str, ...], background: tuple[int, int, int] = (120, 120, 120)
) -> np.ndarray:
    """A plain photo with a rendered plate 260 x 56 px at (70, 70): x 70-330, y 70-126."""
    plate = render_plate(fmt, random.Random(3), lines).image
    plate = cv2.resize(plate, (260, 56), interpolation=cv2.INTER_AREA)
    image = np.full((200, 420, 3), background, np.uint8)
    image[70:126, 70:330] = plate
    return image


def test_a_transit_plate_masked_round_its_big_characters_is_cut_to_its_red_ends():
    # The transit plate's region digits are small and raised, left of the letters (x 24-150 of
    # 1040 on the rendered plate): a mask round the big characters starts at 160 / 4 = 40 px.
    image = _red_plate_scene("ua_transit", ("14KX2068",))
    masked = box_corners((70 + 40, 78, 330 - 5, 118))
    ends = red_plate_ends(image, masked)
    assert ends is not None
    left, right = ends[:, 0].min(), ends[:, 0].max()
    assert 66 <= left <= 76, left  # the plate's left end (its white rim is not red)
    assert 324 <= right <= 334, right
    cut = plate_cut(image, masked)
    assert cut.ends_found
    assert cut.crop.shape[:2] == (WIDE_SIZE[1], WIDE_SIZE[0])
    np.testing.assert_allclose(cut.quad, red_plate_quad(image, masked))
    assert 66 <= cut.quad[:, 0].min() <= 76
    assert 324 <= cut.quad[:, 0].max() <= 334


def test_the_red_ends_are_found_past_characters_the_mask_left_out():
    # A letter's upright is white from top to bottom: the search walks over it to the red
    # beyond, and stops only where the red does.
    image = _red_plate_scene("ua_diplomatic", ("CC220126",))
    masked = box_corners((70 + 60, 78, 330 - 40, 118))  # the letters and first digits left out
    ends = red_plate_ends(image, masked)
    assert ends is not None
    assert 66 <= ends[:, 0].min() <= 76
    assert 324 <= ends[:, 0].max() <= 334


def test_the_red_ends_are_found_when_the_mask_holds_little_more_than_half_the_plate():
    # Seen on a train photo: the mask held the big characters' right part, 0.55 of the plate, so
    # the plate's left end lay 0.58 of the mask's width beyond it. Here the mask is the plate's
    # right 58 % (x 177-328): its left end is 107 px, 0.71 of the mask's width, away.
    image = _red_plate_scene("ua_transit", ("14KX2068",))
    masked = box_corners((177, 78, 328, 118))
    ends = red_plate_ends(image, masked)
    assert ends is not None
    assert 66 <= ends[:, 0].min() <= 76
    assert 324 <= ends[:, 0].max() <= 334


def test_red_that_runs_on_past_the_search_is_not_taken_for_the_plate():
    image = _red_plate_scene("ua_transit", ("14KX2068",), background=(200, 20, 20))
    assert red_plate_ends(image, box_corners((110, 78, 325, 118))) is None


def test_a_plate_that_is_not_red_keeps_its_quadrilateral():
    image = _red_plate_scene("ua_2015", ("AA1234BB",))
    masked = box_corners((110, 78, 325, 118))
    assert red_plate_ends(image, masked) is None
    cut = plate_cut(image, masked)
    assert not cut.ends_found
    np.testing.assert_allclose(cut.quad, grow_to_aspect(masked, 4.6, 0.3))


def test_a_red_plate_seen_from_the_side_is_still_read_as_one_line():
    image = _red_plate_scene("ua_transit", ("14KX2068",))
    side_on = cv2.resize(image, (168, 200), interpolation=cv2.INTER_AREA)  # 0.4 wide: ~66 deg
    masked = box_corners((28 + 16, 78, 132 - 2, 118))  # the big characters: 86 x 40
    assert is_square(masked)
    cut = plate_cut(side_on, masked)
    assert cut.ends_found
    assert 26 <= cut.quad[:, 0].min() <= 31
    assert 129 <= cut.quad[:, 0].max() <= 134
    assert cut.crop.shape[:2] == (WIDE_SIZE[1], WIDE_SIZE[0])


# --- a white-on-red plate traced round its background -------------------------------------------

# Inside the plate's white rim: x 70-330, y 70-126 less a few pixels.
RED_PLATE = (70, 70, 330, 126)


def _near_red_plate(quad: np.ndarray | None) -> bool:
    assert quad is not None
    (x1, y1), (x2, y2) = quad.min(axis=0), quad.max(axis=0)
    return bool(
        abs(x1 - RED_PLATE[0]) <= 6
        and abs(y1 - RED_PLATE[1]) <= 6
        and abs(x2 - RED_PLATE[2]) <= 6
        and abs(y2 - RED_PLATE[3]) <= 6
    )


def test_a_red_plate_masked_askew_is_traced_round_its_background():
    # A mask's quadrilateral that is nearly a triangle, over part of the characters, and tilted
    # off the plate's axis: walking along that axis does not find the plate's ends.
    image = _red_plate_scene("ua_transit", ("14KX2068",))
    askew = np.array([[150, 80], [320, 84], [318, 96], [140, 118]], np.float32)
    assert _near_red_plate(red_plate_outline(image, askew))
    cut = plate_cut(image, askew)
    assert cut.ends_found
    assert _near_red_plate(cut.quad)
    assert cut.crop.shape[:2] == (WIDE_SIZE[1], WIDE_SIZE[0])


def test_a_red_plate_is_traced_through_red_specks_in_the_scene():
    image = _red_plate_scene("ua_diplomatic", ("CC220126",))
    rng = np.random.default_rng(0)
    specks = rng.random(image.shape[:2]) < 0.2
    specks[70:126, 70:330] = False
    image[specks] = (200, 20, 20)  # single red pixels all round the plate
    assert _near_red_plate(red_plate_outline(image, box_corners((130, 78, 290, 118))))


def test_red_joined_to_a_tail_light_is_not_traced_as_the_plate():
    image = _red_plate_scene("ua_transit", ("14KX2068",))
    image[30:170, 20:90] = (200, 20, 20)  # a tail light over the plate's left end
    masked = box_corners((110, 78, 325, 118))
    assert red_plate_outline(image, masked) is None
    quad = red_plate_quad(image, masked)  # the walk along the mask's axis decides then
    assert quad is None or quad[:, 0].min() >= 20


def test_a_red_plate_on_a_red_car_is_traced_to_its_white_rim():
    image = _red_plate_scene("ua_transit", ("14KX2068",), background=(200, 20, 20))
    assert _near_red_plate(red_plate_outline(image, box_corners((110, 78, 325, 118))))


def test_red_that_runs_on_is_not_traced_as_the_plate():
    image = _red_plate_scene("ua_transit", ("14KX2068",), background=(200, 20, 20))
    image[66:130, 64:80] = (200, 20, 20)  # the rim at its left end gone: the plate's red joins
    assert red_plate_outline(image, box_corners((110, 78, 325, 118))) is None


def test_a_plate_that_is_not_red_is_not_traced():
    image = _red_plate_scene("ua_2015", ("AA1234BB",))
    assert red_plate_outline(image, box_corners((110, 78, 325, 118))) is None


# --- a mask that runs off a white-on-red plate onto the car beside it ---------------------------


def test_a_red_plate_masked_with_the_headlight_beside_it_is_traced_round_its_background():
    image = _red_plate_scene("ua_transit", ("14KX2068",))
    image[60:150, 336:415] = (235, 235, 225)  # a pale headlight right of the plate
    masked = box_corners((90, 40, 415, 160))  # the plate's right 92 % and the light
    assert RED_PART_SHARE < red_share(image, masked)
    assert red_share(image, masked) <= RED_SHARE
    assert _near_red_plate(red_plate_outline(image, masked))
    cut = plate_cut(image, masked)
    assert cut.ends_found
    assert _near_red_plate(cut.quad)


def test_a_red_plate_mostly_outside_the_mask_is_not_traced_from_it():
    image = _red_plate_scene("ua_transit", ("14KX2068",))
    masked = box_corners((190, 60, 415, 136))  # 54 % of the plate and the grey beyond it
    assert RED_PART_SHARE < red_share(image, masked)
    assert red_plate_outline(image, masked) is None


def test_solid_red_beside_a_white_plate_is_not_traced_as_a_red_plate():
    image = _red_plate_scene("ua_2015", ("AA1234BB",))
    image[130:158, 110:290] = (200, 20, 20)  # a red reflector strip under the plate, in the mask
    masked = box_corners((70, 60, 330, 160))
    assert RED_PART_SHARE < red_share(image, masked)
    assert red_plate_outline(image, masked) is None


def test_the_red_ends_of_a_plate_cut_by_the_photo_s_edge_are_not_measured_past_it():
    # The walk's strip repeats the photo's edge pixels beyond it: along a slanted quadrilateral
    # they read as more red plate, and the plate was reported reaching 16 px off the photo.
    image = np.ascontiguousarray(_red_plate_scene("ua_transit", ("14KX2068",))[:, 150:])
    height, width = image.shape[:2]  # the plate now spans x 0-180, cut at its left
    slanted = np.array([[44.4, 97.2], [139.5, 87.0], [122.7, 109.1], [31.4, 136.8]], np.float32)
    ends = red_plate_ends(image, slanted)
    assert ends is None or _inside(ends, width, height), ends


@settings(max_examples=200, deadline=None)
@given(
    left=st.floats(0, 60),
    right=st.floats(100, 175),
    jitter=st.lists(st.floats(-20, 20), min_size=8, max_size=8),
)
def test_the_red_ends_lie_on_the_photo(left: float, right: float, jitter: list[float]):
    image = _edge_plate_scene()
    height, width = image.shape[:2]
    quad = box_corners((left, 78, right, 118)) + np.reshape(jitter, (4, 2)).astype(np.float32)
    ends = red_plate_ends(image, quad)
    assert ends is None or _inside(ends, width, height), ends


def _inside(points: np.ndarray, width: float, height: float) -> bool:
    return bool((points >= 0).all() and (points <= (width, height)).all())


@functools.cache
def _edge_plate_scene() -> np.ndarray:
    """A transit plate cut by the photo's left edge: x 0-180, y 70-126."""
    image = np.ascontiguousarray(_red_plate_scene("ua_transit", ("14KX2068",))[:, 150:])
    image.flags.writeable = False
    return image


def _blobs_mask(blobs: list[tuple[int, int, int, int]], shape=(50, 80)) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    for x, y, w, h in blobs:
        mask[y : y + h, x : x + w] = 1.0
    return mask


def test_the_corners_of_a_mask_in_two_blobs_lie_in_its_frame():
    # The rotated rectangle round two disjoint blobs at opposite corners of the frame stuck out
    # of it (y -3.4, x -0.3 on an 80 x 50 mask): corners outside the photo.
    mask = _blobs_mask([(5, 5, 20, 10), (50, 35, 25, 10)])
    corners, _ = corners_from_mask(mask, (5, 5, 75, 45))
    assert _inside(corners, 80, 50), corners


@settings(max_examples=300, deadline=None)
@given(
    blobs=st.lists(
        st.tuples(st.integers(0, 79), st.integers(0, 49), st.integers(1, 80), st.integers(1, 50)),
        min_size=1,
        max_size=3,
    )
)
def test_mask_corners_are_finite_and_lie_in_the_mask_s_frame(blobs):
    mask = _blobs_mask(blobs)
    ys, xs = np.nonzero(mask)
    box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    corners, _ = corners_from_mask(mask, box)
    assert corners.shape == (4, 2)
    assert np.isfinite(corners).all()
    assert _inside(corners, 80, 50), corners


def test_a_quadrilateral_without_width_is_not_lengthened():
    # Lengthening towards an aspect divided by the quadrilateral's aspect: zero raised
    # ZeroDivisionError on the US cut (which lengthens square quadrilaterals too).
    line = np.array([[50, 10], [50, 10], [50, 60], [50, 60]], np.float32)
    point = np.full((4, 2), 50, np.float32)
    for quad in (line, point):
        np.testing.assert_array_equal(grow_to_aspect(quad, 2.4, 0.2, square=True), quad)


@settings(max_examples=300, deadline=None)
@given(
    points=st.lists(st.tuples(st.integers(-5, 40), st.integers(-5, 40)), min_size=4, max_size=4),
    shape=st.sampled_from([WIDE_PLATES, US_PLATES]),
)
def test_any_quadrilateral_however_degenerate_is_cut_to_a_crop(points, shape):
    # coincident and collinear corners included
    image = np.full((32, 32, 3), 200, np.uint8)
    image[10:20, 4:28] = (200, 20, 20)
    cut = plate_cut(image, np.asarray(points, np.float32), shape=shape)
    assert cut.crop.shape in ((WIDE_SIZE[1], WIDE_SIZE[0], 3), (SQUARE_SIZE[1], SQUARE_SIZE[0], 3))
    assert np.isfinite(cut.quad).all()
