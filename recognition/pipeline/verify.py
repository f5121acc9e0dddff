"""The reader's check on detections: which of the detector's boxes are kept as plates.

The detector's score alone cannot tell a plate from a look-alike (a string of festive lights, a
car badge, a shop sign) at the score where small, distant plates are found too. Our reader can:
on the real val photos it reads a median confidence of 0.32 from plates and 0.00 from what the
detector mistook for one. So a detection stands on its own only when the detector is sure of it;
a weaker one is kept when the reader reads text from its crop.

    check = ReaderCheck(sure=0.97, candidate=0.3, min_confidence=0.05, min_chars=3)
    check.keeps(score=0.6, read=CropRead(0.4, 7))   # True: a weak box the reader can read
    check.keeps(score=0.99, read=CropRead(0.3, 2))  # False: two characters are no plate

A reading shorter than `min_chars` drops a detection whatever its score: the standard serials of
every format the product reads have 4 characters or more (only US vanity plates are shorter),
and many of the detector's surest look-alikes (a tail lamp, a sign's lettering, a string of
lights) read as one or two characters.

The values are fitted for a pair of detector and reader weights
(`python -m recognition.training.fit_reader_check`) and stored in the detector's manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from recognition.pipeline.metrics import assign_detections
from recognition.pipeline.rectify import plate_crop

if TYPE_CHECKING:
    from recognition.pipeline.detect import PlateDetection
    from recognition.pipeline.ocr import OcrResult, PlateReader


class CropRead(NamedTuple):
    """What the check weighs of our reader's reading of one crop."""

    confidence: float
    chars: int  # characters in the reading (spaces and separators not counted)

    @classmethod
    def of(cls, result: OcrResult) -> CropRead:
        return cls(float(result.confidence), sum(ch.isalnum() for ch in result.text))


# Unmatched detections on partially labelled sets are neither right nor wrong (see metrics.py).
Scored = tuple[float, CropRead, bool, bool]  # (detector score, reading, matched, ignored)


@dataclass(frozen=True)
class ReaderCheck:
    sure: float  # a detection at or above this score is a plate on the detector's word
    candidate: float  # below this score a detection is dropped without reading it
    min_confidence: float  # the reader's confidence that keeps a candidate below `sure`
    reader: str = ""  # the reader version the values were fitted with
    min_chars: int = 0  # a shorter reading drops any detection (0: length is not weighed)

    def __post_init__(self) -> None:
        if not 0.0 <= self.candidate <= self.sure:
            raise ValueError(
                f"reader check needs 0 <= candidate <= sure, got {self.candidate}, {self.sure}"
            )

    @classmethod
    def plain(cls, threshold: float) -> ReaderCheck:
        """The detector's threshold alone: what weights without a fitted check get."""
        return cls(sure=threshold, candidate=threshold, min_confidence=0.0)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], threshold: float) -> ReaderCheck:
        raw = manifest.get("reader_check")
        if not raw:
            return cls.plain(threshold)
        return cls(
            sure=float(raw["sure"]),
            candidate=float(raw["candidate"]),
            min_confidence=float(raw["min_confidence"]),
            reader=str(raw.get("reader", "")),
            min_chars=int(raw.get("min_chars", 0)),  # checks fitted before it weighed length
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def keeps(self, *, score: float, read: CropRead) -> bool:
        if read.chars < self.min_chars:
            return False
        if score >= self.sure:
            return True
        return score >= self.candidate and read.confidence >= self.min_confidence


def read_crops(
    reader: PlateReader, image: np.ndarray, detections: Sequence[PlateDetection]
) -> list[CropRead]:
    """Our reader's reading of each detection's straightened crop: what the check weighs."""
    crops = [plate_crop(image, d.corners) for d in detections]
    return [CropRead.of(r) for r in reader.read_batch(crops)] if crops else []


def scored_candidates(
    detections: Sequence[PlateDetection],
    reads: Sequence[CropRead],
    gt: np.ndarray,
    *,
    ignore_unmatched: bool,
) -> list[Scored]:
    """Each detection (best first) matched to the labelled boxes `gt`, with its reading."""
    boxes = np.array([d.box for d in detections], np.float32).reshape(-1, 4)
    scores = np.array([d.score for d in detections], np.float32)
    if len(reads) != len(detections):
        raise ValueError("one reading per detection is needed")
    return [
        (float(scores[d]), reads[d], g >= 0, ignore_unmatched and g < 0)
        for d, g in assign_detections(boxes, scores, gt)
    ]


def check_f1(check: ReaderCheck, scored: Iterable[Scored], n_gt: int) -> dict[str, float]:
    """Precision, recall and F1 of the detections `check` keeps (IoU matching done upstream)."""
    tp = fp = 0
    for score, read, matched, ignored in scored:
        if not check.keeps(score=score, read=read):
            continue
        if matched:
            tp += 1
        elif not ignored:
            fp += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / n_gt if n_gt else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp,
            "fn": n_gt - tp}  # fmt: skip


def fit_check(
    scored: Sequence[Scored],
    n_gt: int,
    grid: Iterable[ReaderCheck],
    *,
    plate_reads: Mapping[str, Sequence[Sequence[tuple[float, CropRead]]]] | None = None,
    recall_floor: float = 0.95,
) -> tuple[ReaderCheck, dict[str, float]]:
    """The check with the best F1 on `scored` among those in `grid` that keep at least
    `recall_floor` of the plates in every group of `plate_reads` (per yaw bucket: for each
    plate, (score, reading) of every detection that matches it; a plate is found when
    the check keeps any of them).
    Ties go to the earlier check in `grid`."""
    best: tuple[ReaderCheck, dict[str, float]] | None = None
    for check in grid:
        if plate_reads and not all(
            plate_recall(check, reads) >= recall_floor for reads in plate_reads.values()
        ):
            continue
        metrics = check_f1(check, scored, n_gt)
        if best is None or metrics["f1"] > best[1]["f1"]:
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
