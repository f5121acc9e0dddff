"""Plates of several rows are read row by row and joined in the plate's canonical order."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from recognition.pipeline.ocr_input import row_bands, row_splits, shows_rows, split_rows
from recognition.pipeline.rectify import SQUARE_SIZE
from recognition.pipeline.regions import region_formats
from recognition.synth.crops import synth_lines
from recognition.synth.plates import MULTI_ROW, render_plate
from tests.recognition.pipeline.reader_doubles import RowReader


def rectified(
    fmt: str, rng: random.Random, lines: tuple[str, ...] | None = None
) -> tuple[np.ndarray, list[tuple[float, float]], tuple]:
    """A rendered plate at the rectifier's square output size, with its rows' pixel spans."""
    plate = render_plate(fmt, rng, lines=lines)
    crop = cv2.resize(plate.image, SQUARE_SIZE, interpolation=cv2.INTER_AREA)
    scale = crop.shape[0] / plate.image.shape[0]
    boxes = [(a * scale, b * scale) for a, b in plate.row_boxes]
    return crop, boxes, plate


@pytest.mark.parametrize("fmt", MULTI_ROW)
def test_a_rendered_plate_of_several_rows_is_read_in_order(fmt: str) -> None:
    # given rendered plates of several rows, straightened to the square size
    rng = random.Random(21)
    reader = RowReader()
    samples = [rectified(fmt, rng) for _ in range(6)]
    for crop, boxes, plate in samples:
        reader.add(crop, boxes, plate.lines)
    # when the reader reads them (the recogniser sees only the rows the code cut)
    results = reader.read_batch([crop for crop, _, _ in samples])
    # then each is its plate, rows joined in canonical order, with its rows
    for result, (_, _, plate) in zip(results, samples, strict=True):
        assert (result.text, result.format, result.valid) == (plate.text, fmt, True)
        assert result.lines == plate.lines
    # and every row was read on its own (the double reads nothing from a cut of several rows)
    for _, _, plate in samples:
        for row in plate.lines:
            assert row in reader.seen


def test_rows_are_found_where_the_ink_is_not_at_half_height() -> None:
    # A motorcycle plate has three rows; a square plate's top row is shorter than its bottom one.
    rng = random.Random(3)
    for fmt, rows in (("ua_moto", 3), ("ua_square", 2), ("ua_1995_square", 2)):
        plate = render_plate(fmt, rng)
        bands = row_bands(plate.image)
        assert len(bands) == rows
        for (a, b), (top, bottom) in zip(bands, plate.row_boxes, strict=True):
            assert top <= a < b <= bottom


def test_a_square_crop_without_visible_rows_is_tried_as_two_and_as_three_rows() -> None:
    blank = np.full((140, 196, 3), 200, np.uint8)
    assert [len(split) for split in row_splits(blank)] == [2, 3]
    top, bottom = split_rows(blank, rows=2)
    assert top.shape[0] + bottom.shape[0] > blank.shape[0]  # the even cut overlaps a little


def test_one_row_plates_are_not_split() -> None:
    rng = random.Random(4)
    for fmt in ("ua_2015", "ua_1995", "pl", "ua_transit"):
        assert len(row_bands(render_plate(fmt, rng).image)) == 1


@pytest.mark.parametrize("fmt", MULTI_ROW)
def test_training_lines_give_each_row_with_its_own_text(fmt: str) -> None:
    rng = random.Random(8)
    for _ in range(5):
        samples = synth_lines(rng, fmt=fmt)
        rows = render_plate(fmt, random.Random(0)).lines  # the layout's row count
        assert len(samples) == len(rows)
        assert [len(s.text) for s in samples] == [len(r) for r in rows]
        assert all(s.format == fmt and s.image.shape[0] >= 4 for s in samples)


def shaded(crop: np.ndarray, factor: float = 0.5) -> np.ndarray:
    """A shadow across the plate: its edge runs from the top edge down to the bottom corner."""
    h, w = crop.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.array([[w * 0.45, 0], [w, 0], [w, h]], np.int32)], 1)
    return np.where(mask[..., None] == 1, crop * factor, crop).astype(np.uint8)


@pytest.mark.parametrize("fmt", MULTI_ROW)
def test_a_shadow_across_a_plate_does_not_join_its_rows(fmt: str) -> None:
    # given plates of several rows with a shadow's edge across them (to the local threshold,
    # the edge is ink in every image row it crosses, which can fill the gaps between rows)
    rng = random.Random(31)
    reader = RowReader()
    samples = []
    for _ in range(8):
        crop, boxes, plate = rectified(fmt, rng)
        crop = shaded(crop)
        reader.add(crop, boxes, plate.lines)
        samples.append((crop, plate))
    # when they are read
    results = reader.read_batch([crop for crop, _ in samples])
    # then every plate is read whole, its rows in order
    assert [r.text for r in results] == [plate.text for _, plate in samples]


def hide_top_row(crop: np.ndarray, boxes: list[tuple[float, float]]) -> None:
    """Paint over a straightened square plate's top row (its left band stays), so that the
    ink shows no rows."""
    (top, bottom), (below, _) = boxes
    paper = crop[int((bottom + below) / 2), crop.shape[1] // 2].copy()
    crop[int(top) : int(bottom) + 1, int(0.2 * crop.shape[1]) :] = paper
    assert not shows_rows(crop)


class SideView(RowReader):
    """Reads a whole square crop as its bottom row alone (at `sure`): how a square plate seen from
    the side reads as one line (`2929XM` for `IE2929XM`); its rows, cut apart, read right."""

    def _text(self, part: np.ndarray) -> str:
        for crop, _, rows in self.plates:
            if np.shares_memory(part, crop) and part.shape[0] == crop.shape[0]:
                return rows[-1]
        return super()._text(part)


def test_a_sure_one_line_reading_of_another_country_does_not_stop_the_rows_being_read() -> None:
    # given a square Ukrainian plate whose thin top row the ink does not show, and which reads
    # as one line as its bottom row alone: `2929XM`, a valid US plate, read surely
    crop, boxes, plate = rectified("ua_square", random.Random(41), lines=("IE", "2929XM"))
    hide_top_row(crop, boxes)
    reader = SideView()
    reader.add(crop, boxes, plate.lines)
    # when it is read with the US formats allowed
    result = reader.read_batch([crop], region_formats("ua,eu,us"))[0]
    # then the crop's Ukrainian band outweighs the US reading: its rows are read and joined
    assert (result.text, result.format) == ("IE2929XM", "ua_square")


def read_square_1995_as_its_letters(sure: float):
    """A square 1995 plate (`39825` over `PM`) whose top row the ink does not show, read by a
    reader that reads the whole crop as its two large letters alone, each at `sure`: the
    reader, its result and the plate."""
    crop, boxes, plate = rectified("ua_1995_square", random.Random(3))
    hide_top_row(crop, boxes)
    reader = SideView(sure=sure)
    reader.add(crop, boxes, plate.lines)
    return reader, reader.read_batch([crop])[0], plate


def test_a_square_1995_plate_read_as_its_two_letters_alone_is_read_row_by_row() -> None:
    # given a square 1995 plate read as one line as its two letters alone, surely, when read
    _, result, plate = read_square_1995_as_its_letters(sure=0.9)
    # then two sure characters are not taken for a crop with too little text: its rows are read
    assert (result.text, result.format) == (plate.text, "ua_1995_square")


def test_a_square_crop_reading_two_unsure_characters_is_not_read_row_by_row() -> None:
    # given the same crop read as one line as two characters the reader is unsure of (what
    # most square crops that are not plates read), when read
    reader, result, plate = read_square_1995_as_its_letters(sure=0.6)
    # then the one-line reading settles it: no row is read, and it is no plate
    assert reader.seen == [plate.lines[-1]]
    assert not result.valid
