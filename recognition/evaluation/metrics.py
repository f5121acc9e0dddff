"""Detection matching and precision/recall/F1, shared by training and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SCORING_MAP = str.maketrans({"O": "0", "I": "1"})


def score_text(text: str) -> str:
    """The dataset README's rule: compare after O->0 and I->1 on both sides."""
    return "".join(ch for ch in text.upper() if ch.isalnum()).translate(_SCORING_MAP)


IOU_MATCH = 0.5  # the standard PASCAL threshold that the papers we compare with use


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of boxes a (N, 4) and b (M, 4) in x1, y1, x2, y2."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
    return np.asarray(inter / union, np.float32)


def assign_detections(
    boxes: np.ndarray, scores: np.ndarray, gt: np.ndarray, iou: float = IOU_MATCH
) -> list[tuple[int, int]]:
    """Greedy matching by descending score: (detection index, labelled box index or -1)."""
    order = np.argsort(-scores, kind="stable")
    ious = box_iou(boxes[order], gt)
    taken = np.zeros(len(gt), bool)
    out: list[tuple[int, int]] = []
    for row, idx in enumerate(order):
        hit = -1
        if len(gt):
            cand = np.where(~taken & (ious[row] >= iou))[0]
            if len(cand):
                hit = int(cand[np.argmax(ious[row, cand])])
                taken[hit] = True
        out.append((int(idx), hit))
    return out


def match_detections(
    boxes: np.ndarray, scores: np.ndarray, gt: np.ndarray, iou: float = IOU_MATCH
) -> list[tuple[float, bool]]:
    """Greedy matching by descending score: each (score, is_true_positive)."""
    return [(float(scores[d]), g >= 0) for d, g in assign_detections(boxes, scores, gt, iou)]


@dataclass(frozen=True)
class DetectionCounts:
    """Detections sorted by score, with flags: true positive, ignored (unlabelled region)."""

    scores: np.ndarray
    tp: np.ndarray
    ignored: np.ndarray
    n_gt: int

    @classmethod
    def from_scored(cls, scored: list[tuple[float, bool, bool]], n_gt: int) -> DetectionCounts:
        scored = sorted(scored, key=lambda s: -s[0])
        arr = np.array(scored, dtype=np.float64).reshape(-1, 3)
        return cls(arr[:, 0], arr[:, 1].astype(bool), arr[:, 2].astype(bool), n_gt)

    def curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Precision, recall and threshold at each score cut."""
        keep = ~self.ignored
        tp = np.cumsum(self.tp & keep)
        fp = np.cumsum(~self.tp & keep)
        precision = tp / np.maximum(tp + fp, 1)
        recall = tp / max(self.n_gt, 1)
        return precision, recall, self.scores

    def at_threshold(self, threshold: float) -> dict[str, float]:
        sel = (self.scores >= threshold) & ~self.ignored
        tp = int((self.tp & sel).sum())
        fp = int((~self.tp & sel).sum())
        p = tp / max(tp + fp, 1)
        r = tp / max(self.n_gt, 1)
        return {
            "threshold": threshold,
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / max(p + r, 1e-9),
            "tp": tp,
            "fp": fp,
            "fn": self.n_gt - tp,
        }

    def best_f1(self) -> dict[str, float]:
        if len(self.scores) == 0:
            return self.at_threshold(1.0)
        precision, recall, thresholds = self.curve()
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
        best = int(np.argmax(f1))
        return self.at_threshold(float(thresholds[best]))


def score_key(text: str) -> str:
    """The dataset README's scoring key: O and 0, I and 1 are the same character."""
    return text.upper().replace("O", "0").replace("I", "1")


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
