"""Fitting the reader's check: F1 of the detections a check keeps, and the grid search."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.evaluation.check_fit import check_f1, fit_check, scored_candidates
from recognition.pipeline.plate_detector import PlateDetection
from recognition.pipeline.reader_check import CropRead, ReaderCheck

CHECK = ReaderCheck(sure=0.95, candidate=0.3, min_confidence=0.1)


def read(confidence: float, chars: int = 8, text: str = "", valid: bool = True) -> CropRead:
    """A reading at `confidence`, of a full-length Ukrainian plate unless told otherwise."""
    return CropRead(confidence, chars, text, valid)


def detection(box: tuple[float, float, float, float], score: float) -> PlateDetection:
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
    return PlateDetection(box, np.zeros((1, 1), np.float32), corners, score, False, 1.0)


def test_a_wrong_reading_of_a_labelled_plate_is_a_wrong_report() -> None:
    # given two labelled plates with texts, read right and wrong, and a third without a text
    gt = np.array([[0, 0, 100, 20], [200, 0, 300, 20], [400, 0, 500, 20]], np.float32)
    dets = [detection((0, 0, 100, 20), 0.99), detection((200, 0, 300, 20), 0.98),
            detection((400, 0, 500, 20), 0.97)]  # fmt: skip
    reads = [read(0.9, text="AA1234BB"), read(0.9, text="AA1234B8"), read(0.9, text="KA0001AA")]
    # when
    scored = scored_candidates(
        dets, reads, gt, ignore_unmatched=False, texts=["AA 1234 BB", "AA1234BB", None]
    )
    # then the right reading and the box without a text match; the misread one does not
    assert [matched for _, _, matched, _ in scored] == [True, False, True]
    assert check_f1(CHECK, scored, n_gt=3)["fp"] == 1


def test_reports_count_only_readings_that_fit_a_plate_format() -> None:
    # given a kept plate that reads as a plate, and a kept look-alike whose text fits no format
    scored = [(0.99, read(0.9), True, False), (0.99, read(0.9, valid=False), False, False)]
    # when scored as boxes and as reports
    boxes = check_f1(CHECK, scored, n_gt=1)
    reports = check_f1(CHECK, scored, n_gt=1, reports=True)
    # then the engine never reports the look-alike, so it is no wrong report
    assert (boxes["tp"], boxes["fp"]) == (1, 1)
    assert (reports["tp"], reports["fp"]) == (1, 0)


def test_fitting_on_reports_drops_sure_boxes_that_read_as_nothing() -> None:
    # given plates read right, and sure look-alikes read at ~0 confidence as valid-looking text;
    # a plate read at ~0 confidence is read wrong (so it does not match its label)
    scored = [(0.99, read(0.9), True, False)] * 4 + [(0.99, read(0.001), False, False)] * 3
    takes_the_detectors_word = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.1)
    asks_the_reader_too = ReaderCheck(
        sure=0.95, candidate=0.5, min_confidence=0.1, sure_min_confidence=0.01
    )
    # when
    check, metrics = fit_check(
        scored, 4, [takes_the_detectors_word, asks_the_reader_too], reports=True
    )
    # then
    assert check == asks_the_reader_too
    assert (metrics["tp"], metrics["fp"]) == (4, 0)


def test_fitting_weighs_length_when_the_surest_look_alikes_read_short() -> None:
    # given plates that read in full and sure look-alikes that read as two characters
    scored = [(0.99, read(0.0, chars=7), True, False)] * 4 + [
        (0.99, read(0.3, chars=2), False, False)
    ] * 3
    ignores_length = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.1)
    weighs_length = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.1, min_chars=3)
    # when
    check, metrics = fit_check(scored, 4, [ignores_length, weighs_length])
    # then
    assert check == weighs_length
    assert (metrics["tp"], metrics["fp"]) == (4, 0)


def test_f1_counts_kept_matches_and_ignores_unmatched_boxes_on_partial_sets() -> None:
    # given 3 plates: two found (one sure, one weak but readable), a weak unreadable miss,
    # a look-alike the check drops, one it keeps, and an unlabelled region it keeps
    scored = [
        (0.99, read(0.0), True, False),
        (0.5, read(0.4), True, False),
        (0.5, read(0.0), False, False),
        (0.97, read(0.0), False, False),
        (0.6, read(0.5), False, True),
    ]
    # when
    m = check_f1(CHECK, scored, n_gt=3)
    # then
    assert (m["tp"], m["fp"], m["fn"], m["unsure"]) == (2, 1, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)


def test_fitting_picks_the_best_f1_among_checks_that_keep_steep_plates() -> None:
    # given weak plates that read well and sure look-alikes that do not read at all
    scored = [(0.6, read(0.5), True, False)] * 4 + [(0.92, read(0.0), False, False)] * 4
    plain = ReaderCheck.plain(0.9)
    reading = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.2)
    strict = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.6)
    # when nothing is promised about steep plates
    check, metrics = fit_check(scored, 4, [plain, reading, strict])
    # then the check that reads wins
    assert check == reading
    assert metrics["f1"] == 1.0


def test_between_equal_f1_fitting_keeps_fewer_unsure_reports() -> None:
    # given labelled plates the reader reads, and on partially labelled photos two sure unmatched
    # detections: one it reads, one it reads at next to nothing
    scored = [(0.99, read(0.6), True, False)] * 3 + [
        (0.99, read(0.5), False, True),
        (0.99, read(0.001), False, True),
    ]
    takes_the_detectors_word = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.1)
    asks_the_reader_too = ReaderCheck(
        sure=0.95, candidate=0.5, min_confidence=0.1, sure_min_confidence=0.02
    )
    # when both score the same F1 on the labelled plates
    check, metrics = fit_check(scored, 3, [takes_the_detectors_word, asks_the_reader_too])
    # then the one that keeps fewer unsure reports wins, though it comes later in the grid
    assert check == asks_the_reader_too
    assert (metrics["f1"], metrics["unsure"]) == (1.0, 1)


def test_fitting_refuses_a_check_that_would_drop_steep_plates() -> None:
    # given a strict check that is best on the photos ...
    scored = [(0.6, read(0.7), True, False)] * 4 + [(0.6, read(0.3), False, False)] * 4
    strict = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.6)
    lenient = ReaderCheck(sure=0.95, candidate=0.5, min_confidence=0.2)
    assert check_f1(strict, scored, 4)["f1"] > check_f1(lenient, scored, 4)["f1"]
    # ... but steep plates score 0.6 and read at only 0.3 confidence
    steep = {
        "45-60": [[(0.6, read(0.3))], [(0.6, read(0.3)), (0.2, read(0.9))], [(0.6, read(0.3))]]
    }
    # when
    check, metrics = fit_check(scored, 4, [strict, lenient], plate_reads=steep)
    # then the check that keeps them is chosen
    assert check == lenient
    assert metrics["fp"] == 4


def test_fitting_fails_clearly_when_no_check_keeps_the_promised_recall() -> None:
    steep = {"45-60": [[], [], [(0.99, read(0.0))]]}
    with pytest.raises(ValueError, match="promised recall"):
        fit_check([], 3, [CHECK], plate_reads=steep, recall_floor=0.95)


@pytest.fixture(scope="module")
def shipped_engine():  # type: ignore[no-untyped-def]
    from recognition.pipeline.engine import load_engine

    engine = load_engine(with_peer=False, regions="ua,eu")
    engine.second_look = False  # one look: the check weighs the first look's readings
    return engine


def photo_of(fmt: str, seed: int) -> tuple[np.ndarray, str]:
    import random

    from recognition.synth.compose import paste, pose_corners
    from recognition.synth.plates import render_plate

    scene = np.full((480, 640, 3), 90, np.uint8)
    plate = render_plate(fmt, random.Random(seed))
    quad = pose_corners(plate.image.shape[:2], (320, 260), 300, yaw=10, pitch=5)
    paste(scene, plate.image, quad)
    return scene, plate.text


@pytest.mark.parametrize(("fmt", "seed"), [("ua_2015", 1), ("ua_2015", 2), ("us", 3), ("br", 4)])
def test_the_check_weighs_what_the_engine_reads_and_reports(shipped_engine, fmt, seed) -> None:  # type: ignore[no-untyped-def]
    """The fit scores reports as the engine makes them: its crops, read with its regions'
    formats; a reading that fits no format of the engine's regions is no report."""
    from recognition.evaluation.check_fit import read_crops

    # given a photo of one plate, and the engine (Ukraine and Europe) as deployed
    image, _ = photo_of(fmt, seed)
    # when the fit reads the engine's candidates on it
    dets = shipped_engine.detect([image])[0]
    reads = read_crops(shipped_engine, image, dets)
    # then the readings it counts as reports are the plates the engine reports
    kept = {r.text for d, r in zip(dets, reads, strict=True)
            if r.valid and shipped_engine.check.keeps(score=d.score, read=r)}  # fmt: skip
    reported = {p.text for p in shipped_engine.recognize_batch([image])[0].plates}
    assert kept == reported
    assert len(reads) == len(dets) >= 1
