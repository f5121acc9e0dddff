"""Plates only: the engine reports a reading as a plate only when it fits a format of its regions.

The detector and the recogniser are doubles at the edge (networks); straightening, the format
hint, the regions and the format rules are the product's code.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Sequence

import numpy as np
import pytest

from recognition.cli import _as_json
from recognition.pipeline.ctc import LineRead
from recognition.pipeline.engine import CombinedReader, PlateEngine, load_engine
from recognition.pipeline.plate_detector import PlateDetection
from recognition.pipeline.regions import UnknownRegion
from recognition.synth.compose import paste, pose_corners
from recognition.synth.plates import render_plate
from tests.recognition.pipeline.reader_doubles import ScriptedReader, line


class OnePlateDetector:
    """Finds the one plate pasted into each photo, at its true corners."""

    version = "detector-double"
    threshold = 0.5

    def __init__(self, corners: np.ndarray) -> None:
        self.corners = corners

    def detect(
        self,
        images: Sequence[np.ndarray],
        threshold: float = 0.5,
        *,
        equalise: bool = False,
        zoom_out: float = 1.0,
    ) -> list[list[PlateDetection]]:
        (x1, y1), (x2, y2) = self.corners.min(0), self.corners.max(0)
        box = (float(x1), float(y1), float(x2), float(y2))
        det = PlateDetection(box, np.zeros((1, 1), np.float32), self.corners, 0.95, True, 1.0)
        return [[det] for _ in images]


def photo_with(fmt: str) -> tuple[np.ndarray, np.ndarray, str]:
    rng = random.Random(9)
    scene = np.full((480, 640, 3), 90, np.uint8)
    plate = render_plate(fmt, rng)
    quad = pose_corners(plate.image.shape[:2], (320, 260), 260, yaw=10, pitch=5)
    pasted = paste(scene, plate.image, quad)
    return scene, pasted.corners, plate.text


def engine(corners: np.ndarray, reads: Sequence[str], regions: str) -> PlateEngine:
    reader = CombinedReader(ScriptedReader(reads), None)
    return PlateEngine(OnePlateDetector(corners), reader, regions)  # type: ignore[arg-type]


def test_a_polish_plate_is_refused_in_ukraine_and_reported_in_europe() -> None:
    image, corners, text = photo_with("pl")
    ua = engine(corners, [text], "ua").recognize_batch([image])[0]
    assert ua.plates == ()
    assert [r.text for r in ua.rejected] == [text]
    europe = engine(corners, [text], "ua,eu").recognize_batch([image])[0]
    assert [(p.text, p.format) for p in europe.plates] == [(text, "pl")]
    assert europe.rejected == ()


@pytest.mark.parametrize("junk", ["TOYOTA", "KIA", "SIENNA", "LOTOS"])
def test_text_that_fits_no_format_is_not_reported_as_a_plate(junk: str) -> None:
    image, corners, _ = photo_with("ua_2015")
    result = engine(corners, [junk], "ua,eu,us,br").recognize_batch([image])[0]
    assert result.plates == ()
    assert [r.text for r in result.rejected] == [junk]
    # and the CLI's JSON lists it only under debug
    payload = json.loads(json.dumps(_as_json("photo.jpg", result)))
    assert payload["plates"] == []
    assert [r["text"] for r in payload["debug"]["rejected"]] == [junk]


def test_a_ukrainian_plate_is_reported_with_its_format() -> None:
    image, corners, text = photo_with("ua_2015")
    result = engine(corners, [text], "ua,eu").recognize_batch([image])[0]
    assert [(p.text, p.format) for p in result.plates] == [(text, "ua_2015")]


def test_unknown_regions_fail_before_any_weights_load(tmp_path) -> None:
    with pytest.raises(UnknownRegion, match="'mars'"):
        load_engine(tmp_path / "no-models-here", regions="ua,mars")


def test_the_engine_loader_passes_the_regions_setting(settings) -> None:
    from recognition.engine_loader import get_engine, reset_engine

    settings.PLATECHECK_ENGINE = "tests.fixtures.engine_double:load_engine"
    settings.PLATECHECK_REGIONS = "ua"
    reset_engine()
    try:
        loaded = get_engine()
        assert getattr(loaded, "regions", None) == "ua"
    finally:
        reset_engine()


@pytest.mark.skipif("PLATECHECK_REGIONS" in os.environ, reason="the environment sets the regions")
def test_the_default_regions_are_ukraine_plus_europe() -> None:
    from django.conf import settings

    assert settings.PLATECHECK_REGIONS == "ua,eu"


def test_the_cli_refuses_unknown_regions_with_a_clear_message(tmp_path, capsys) -> None:
    from recognition.cli import get_args_parser, recognize

    photo = tmp_path / "photo.png"
    photo.write_bytes(b"not read: the regions are checked first")
    args = get_args_parser().parse_args(["recognize", str(photo), "--regions", "ua,atlantis"])
    assert recognize(args) == 2
    err = capsys.readouterr().err
    assert "unknown plate region 'atlantis'" in err
    assert "Traceback" not in err


class TwoCutsDetector(OnePlateDetector):
    """Finds the plate twice: whole, and shifted left by a third of its width (a clipped cut)."""

    def detect(
        self,
        images: Sequence[np.ndarray],
        threshold: float = 0.5,
        *,
        equalise: bool = False,
        zoom_out: float = 1.0,
    ) -> list[list[PlateDetection]]:
        (whole,) = super().detect(images[:1], threshold)[0]
        shift = np.array([(whole.box[2] - whole.box[0]) / 3, 0.0])
        x1, y1, x2, y2 = whole.box
        clipped = PlateDetection(
            (x1 - shift[0], y1, x2 - shift[0], y2),
            whole.mask,
            whole.corners - shift,
            0.9,
            True,
            1.0,
        )
        return [[whole, clipped] for _ in images]


class ScriptedLines(ScriptedReader):
    """Reads the batch's lines as the scripted texts, in order."""

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineRead]:

        return [line(self.texts.pop(0)) for _ in lines]


def test_one_plate_cut_two_ways_is_reported_once() -> None:
    # given one plate found whole and again clipped, the clipped cut misread as another valid plate
    image, corners, text = photo_with("ua_2015")
    reader = CombinedReader(ScriptedLines([text, "BC1234AA"]), None)
    result = PlateEngine(TwoCutsDetector(corners), reader, "ua,eu").recognize_batch([image])[0]  # type: ignore[arg-type]
    # then only the surer reading is reported
    assert [p.text for p in result.plates] == [text]


def test_the_same_text_on_two_boxes_is_reported_once() -> None:
    image, corners, text = photo_with("ua_2015")
    reader = CombinedReader(ScriptedLines([text, text]), None)
    result = PlateEngine(TwoCutsDetector(corners), reader, "ua,eu").recognize_batch([image])[0]  # type: ignore[arg-type]
    assert [p.text for p in result.plates] == [text]


def test_a_red_plate_masked_round_its_big_characters_is_read_and_outlined_whole() -> None:
    # The mask of a transit plate often leaves out its small raised region digits (the first
    # 15 % of the plate): the engine cuts the crop to the plate's red ends and reports them.
    rng = random.Random(4)
    scene = np.full((480, 640, 3), 90, np.uint8)
    plate = render_plate("ua_transit", rng, ("14KX2068",))
    quad = pose_corners(plate.image.shape[:2], (320, 260), 260, yaw=10, pitch=5)
    corners = paste(scene, plate.image, quad).corners
    tl, tr, br, bl = corners
    big = np.array([tl + 0.16 * (tr - tl), tr, br, bl + 0.16 * (br - bl)], np.float32)
    result = engine(big, ["14KX2068"], "ua").recognize_batch([scene])[0]
    (found,) = result.plates
    assert (found.text, found.format) == ("14KX2068", "ua_transit")
    reported = np.array(found.corners, np.float32)
    assert np.abs(reported - corners).max() < 6  # the whole plate, not the mask's part of it
    x1, _, x2, _ = found.box
    assert x1 <= corners[:, 0].min() + 6
    assert x2 >= corners[:, 0].max() - 6
