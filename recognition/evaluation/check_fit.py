"""Fitting and scoring the reader's check on detections (`recognition.pipeline.reader_check`).

The engine only applies a fitted `ReaderCheck`; these measure one on labelled photos: each
detection matched to the labelled boxes with our reader's reading of its crop, and the precision,
recall and F1 of the detections a check keeps, or (`reports=True`) of the plates the engine then
reports: a kept detection is reported only when its reading fits a plate format, and where the
label has a text, it is right only when it reads that text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from recognition.evaluation.metrics import assign_detections, score_text
from recognition.pipeline.engine import PlateEngine
from recognition.pipeline.plate_detector import PlateDetection
from recognition.pipeline.reader_check import CropRead, ReaderCheck
from recognition.pipeline.regions import REGION_FORMATS

# Unmatched detections on partially labelled sets are neither right nor wrong (see metrics.py).
# The formats a check is fitted and scored with: the photos come from every region the product
# reads (US, Brazil, Europe, ...).
ALL_REGIONS = ",".join(REGION_FORMATS)
Scored = tuple[float, CropRead, bool, bool]  # (detector score, reading, matched, ignored)


def read_crops(
    engine: PlateEngine, image: np.ndarray, detections: Sequence[PlateDetection]
) -> list[CropRead]:
    """The engine's reading of each detection (its crop cut, and read with its formats, as
    `PlateEngine.recognize_batch` cuts and reads it): what the check weighs."""
    crops = [cut.crop for cut in engine.cuts(image, detections)]
    results = engine.reader.read_batch(crops) if crops else []
    return [CropRead.of(r) for r in results if r is not None]  # no `keep`: each crop is read


def scored_candidates(
    detections: Sequence[PlateDetection],
    reads: Sequence[CropRead],
    gt: np.ndarray,
    *,
    ignore_unmatched: bool,
    texts: Sequence[str | None] | None = None,
) -> list[Scored]:
    """Each detection (best first) matched to the labelled boxes `gt`, with its reading.

    With the labels' `texts` (one per box; None or "" where unknown), a detection matches only
    when its reading is that text too: a wrong reading of a labelled plate is a wrong report.
    """
    boxes = np.array([d.box for d in detections], np.float32).reshape(-1, 4)
    scores = np.array([d.score for d in detections], np.float32)
    if len(reads) != len(detections):
        raise ValueError("one reading per detection is needed")
    return [
        (
            float(scores[d]),
            reads[d],
            g >= 0 and _reads(reads[d], texts, g),
            ignore_unmatched and g < 0,
        )
        for d, g in assign_detections(boxes, scores, gt)
    ]


def _reads(read: CropRead, texts: Sequence[str | None] | None, g: int) -> bool:
    label = texts[g] if texts is not None else None
    return not label or score_text(read.text) == score_text(label)


def check_f1(
    check: ReaderCheck, scored: Iterable[Scored], n_gt: int, *, reports: bool = False
) -> dict[str, float]:
    """Precision, recall and F1 of the detections `check` keeps (IoU matching done upstream),
    and how many unmatched ones it keeps where they are neither right nor wrong (`unsure`).
    `reports`: count only the kept detections that the engine reports (a valid reading)."""
    tp = fp = unsure = 0
    for score, read, matched, ignored in scored:
        if not check.keeps(score=score, read=read) or (reports and not read.valid):
            continue
        if matched:
            tp += 1
        elif ignored:
            unsure += 1
        else:
            fp += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / n_gt if n_gt else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp,
            "fn": n_gt - tp, "unsure": unsure}  # fmt: skip


def fit_check(
    scored: Sequence[Scored],
    n_gt: int,
    grid: Iterable[ReaderCheck],
    *,
    plate_reads: Mapping[str, Sequence[Sequence[tuple[float, CropRead]]]] | None = None,
    recall_floor: float = 0.95,
    reports: bool = False,
) -> tuple[ReaderCheck, dict[str, float]]:
    """The check with the best F1 on `scored` (of reports with `reports`, as `check_f1`) among
    those in `grid` that keep at least `recall_floor` of the plates in every group of
    `plate_reads` (per yaw bucket: for each plate, (score, reading) of every detection that
    matches it; a plate is found when the check keeps any of them).

    Between checks of equal F1, the one that keeps fewer `unsure` detections (unmatched ones on
    partially labelled photos) wins: the labelled plates cannot tell them apart, and what such a
    check drops besides are reports the reader could hardly read (a notice, a date sticker), a
    wrong reading even where an unlabelled plate lies under it. Remaining ties go to the earlier
    check in `grid`."""
    best: tuple[ReaderCheck, dict[str, float]] | None = None
    for check in grid:
        if plate_reads and not all(
            plate_recall(check, reads) >= recall_floor for reads in plate_reads.values()
        ):
            continue
        metrics = check_f1(check, scored, n_gt, reports=reports)
        if best is None or (metrics["f1"], -metrics["unsure"]) > (
            best[1]["f1"],
            -best[1]["unsure"],
        ):
            best = (check, metrics)
    if best is None:
        raise ValueError("no reader check in the grid keeps the promised recall")
    return best


def plate_recall(check: ReaderCheck, plates: Sequence[Sequence[tuple[float, CropRead]]]) -> float:
    """The share of `plates` (each: (score, reading) of its matching detections) that `check`
    keeps through at least one detection."""
    if not plates:
        return 0.0
    found = sum(any(check.keeps(score=s, read=r) for s, r in reads) for reads in plates)
    return found / len(plates)
