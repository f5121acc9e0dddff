from __future__ import annotations

import numpy as np

from recognition.evaluation.detection import found_plates, recall_by_width
from recognition.evaluation.metrics import DetectionCounts, assign_detections, match_detections

GT = np.array([[10, 10, 110, 40], [200, 10, 300, 40]], np.float32)


def test_the_best_scored_detection_takes_the_plate_and_a_duplicate_is_false():
    boxes = np.array(
        [[12, 11, 108, 41], [10, 10, 110, 40], [400, 10, 500, 40], [198, 12, 302, 38]], np.float32
    )
    scores = np.array([0.6, 0.9, 0.8, 0.7], np.float32)
    # Best first: the 0.9 box takes plate 0, the 0.6 near-copy finds it taken.
    assert assign_detections(boxes, scores, GT) == [(1, 0), (2, -1), (3, 1), (0, -1)]
    assert match_detections(boxes, scores, GT) == [
        (np.float32(0.9), True), (np.float32(0.8), False), (np.float32(0.7), True),
        (np.float32(0.6), False),
    ]  # fmt: skip


def test_a_box_under_half_overlap_does_not_match():
    shifted = np.array([[60, 10, 160, 40]], np.float32)  # IoU 50/150 with plate 0
    assert assign_detections(shifted, np.array([0.99], np.float32), GT) == [(0, -1)]
    assert assign_detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), GT) == []


def test_counts_at_a_threshold_leave_out_ignored_detections():
    counts = DetectionCounts.from_scored(
        [(0.9, True, False), (0.8, False, True), (0.7, False, False), (0.4, True, False)], n_gt=3
    )
    at = counts.at_threshold(0.5)
    assert (at["tp"], at["fp"], at["fn"]) == (1, 1, 2)
    assert counts.best_f1()["threshold"] == 0.4


def test_found_plates_and_recall_by_width():
    boxes = np.array([[10, 10, 110, 40], [200, 10, 300, 40]], np.float32)
    scores = np.array([0.95, 0.5], np.float32)
    assert found_plates(boxes, scores, GT, scores >= 0.9).tolist() == [True, False]
    assert found_plates(boxes, scores, GT, scores >= 0.3).tolist() == [True, True]
    # A dropped detection does not hand its plate to a lower one that overlaps it too: the
    # matching is the one over all detections, as in the P/R counts.
    twin = np.array([[10, 10, 110, 40], [12, 10, 112, 40]], np.float32)
    found = found_plates(twin, np.array([0.9, 0.8], np.float32), GT, np.array([False, True]))
    assert found.tolist() == [False, False]
    rows = [(12.0, False, False), (20.0, True, False), (25.0, False, True), (400.0, True, True)]
    by_width = recall_by_width(rows)
    assert by_width["0-15"] == {"plates": 1, "recall": 0.0, "recall_with_reader_check": 0.0}
    assert by_width["15-30"]["plates"] == 2
    assert by_width["15-30"]["recall"] == 0.5
    assert by_width["15-30"]["recall_with_reader_check"] == 0.5
    assert by_width[">=100"]["recall"] == 1.0
    assert by_width["50-100"]["plates"] == 0
