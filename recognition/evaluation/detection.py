"""Detection benchmark: P/R/F1 on the real val splits, recall by yaw on the synthetic angle set,
corner-quadrilateral IoU, and ms per photo. Writes JSON and PNG plots.

Each figure is given for the detector alone (its manifest threshold) and for the plates the
engine keeps: the detector with our reader's check (recognition/pipeline/reader_check.py).

    python -m recognition.evaluation detect --data ../shared/datasets --out bench/out
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from recognition.datasets import PARTIAL_LABEL_SETS, SceneRecord, load_records, read_rgb
from recognition.evaluation.check_fit import (
    ALL_REGIONS,
    Scored,
    check_f1,
    read_crops,
    scored_candidates,
)
from recognition.evaluation.metrics import (
    DetectionCounts,
    assign_detections,
    box_iou,
    match_detections,
)
from recognition.pipeline.engine import DEFAULT_MODELS_DIR, PlateEngine, load_engine
from recognition.pipeline.plate_detector import PlateDetector, detections_from_output
from recognition.pipeline.reader_check import ReaderCheck
from recognition.pipeline.rectify import quad_iou
from recognition.synth.angle_set import YAW_BUCKETS, angle_set, bucket_name

log = logging.getLogger(__name__)

# Plate width where the network sees it (after its resize to 512 / 768), in pixels: the
# buckets of "recall by width", which shows where recall is lost.
WIDTH_BUCKETS = ((0, 15), (15, 30), (30, 50), (50, 100), (100, 10_000))


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    arr = np.array(values)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95))}


def evaluate_real(engine: PlateEngine, data: Path, limit: int | None) -> dict[str, object]:
    detector = engine.detector
    records = load_records(data, "val")[: limit or None]
    check = ReaderCheck.from_manifest(detector.manifest, detector.threshold)
    scored: dict[str, list[tuple[float, bool, bool]]] = {}
    checked: dict[str, list[Scored]] = {}
    n_gt: dict[str, int] = {}
    by_width: dict[str, list[tuple[float, bool, bool]]] = {}
    times: list[float] = []
    for rec in tqdm(records, desc="real val", unit="img"):
        photo = score_photo(engine, check, rec)
        times.append(photo.ms)
        ignore = rec.dataset in PARTIAL_LABEL_SETS
        for key in (rec.dataset, "all"):
            scored.setdefault(key, []).extend((s, tp, ignore and not tp) for s, tp in photo.matched)
            checked.setdefault(key, []).extend(photo.candidates)
            n_gt[key] = n_gt.get(key, 0) + photo.n_gt
            by_width.setdefault(key, []).extend(photo.by_width)
    report: dict[str, object] = {"ms_per_photo": _percentiles(times), "images": len(records)}
    for key, rows in scored.items():
        counts = DetectionCounts.from_scored(rows, n_gt[key])
        report[key] = {
            "at_threshold": counts.at_threshold(detector.threshold),
            "best_f1": counts.best_f1(),
            "strict_at_threshold": DetectionCounts.from_scored(
                [(s, tp, False) for s, tp, _ in rows], n_gt[key]
            ).at_threshold(detector.threshold),
            "with_reader_check": check_f1(check, checked[key], n_gt[key]),
            # What the engine reports: the boxes the check keeps whose reading fits a format
            # (the others are rejected text, not plates).
            "reported": check_f1(check, checked[key], n_gt[key], reports=True),
            "strict_with_reader_check": check_f1(
                check, [(s, c, tp, False) for s, c, tp, _ in checked[key]], n_gt[key]
            ),
        }
        report[key]["recall_by_width"] = recall_by_width(by_width[key])
    report["_curve"] = DetectionCounts.from_scored(
        scored.get("all", []), n_gt.get("all", 0)
    ).curve()
    return report


@dataclass(frozen=True)
class PhotoScore:
    """One val photo's detections against its labels, for the detector alone and with the check."""

    ms: float  # the network's time on the photo
    matched: list[tuple[float, bool]]  # (score, matched) of every raw detection
    candidates: list[Scored]  # the engine's candidates with their readings
    n_gt: int
    by_width: list[tuple[float, bool, bool]]  # per labelled plate: (width, found, found checked)


def score_photo(engine: PlateEngine, check: ReaderCheck, rec: SceneRecord) -> PhotoScore:
    detector = engine.detector
    image, scale = read_rgb(rec.path, max_side=4096)
    # The network sees what the engine gives it: the photo shrunk to DETECT_MAX_SIDE.
    t0 = time.perf_counter()
    [(out, shrink)] = detector.outputs([image])
    ms = (time.perf_counter() - t0) * 1000
    gt = np.array(rec.boxes, np.float32).reshape(-1, 4) * scale
    boxes = out["boxes"].numpy() / shrink
    scores = out["scores"].numpy()
    # The engine's view: candidates (nested parts dropped) read from the full photo.
    dets = detections_from_output(out, shrink, check.candidate)
    ignore = rec.dataset in PARTIAL_LABEL_SETS
    reads = read_crops(engine, image, dets)
    widths = (gt[:, 2] - gt[:, 0]) * network_scale(detector, image.shape[:2])
    found = found_plates(boxes, scores, gt, scores >= detector.threshold)
    found_checked = found_plates(
        np.array([d.box for d in dets], np.float32).reshape(-1, 4),
        np.array([d.score for d in dets], np.float32), gt,
        np.array([check.keeps(score=d.score, read=r)
                  for d, r in zip(dets, reads, strict=True)], bool),
    )  # fmt: skip
    return PhotoScore(
        ms=ms,
        matched=match_detections(boxes, scores, gt),
        candidates=scored_candidates(dets, reads, gt, ignore_unmatched=ignore),
        n_gt=len(gt),
        by_width=list(zip(widths.tolist(), found.tolist(), found_checked.tolist(), strict=True)),
    )


def network_scale(detector: PlateDetector, shape: tuple[int, int]) -> float:
    """The factor by which the network's transform resizes an image of `shape`."""
    transform = detector.model.transform
    short, long = min(shape), max(shape)
    return min(float(transform.min_size[-1]) / short, float(transform.max_size) / long)


def found_plates(
    boxes: np.ndarray, scores: np.ndarray, gt: np.ndarray, kept: np.ndarray
) -> np.ndarray:
    """Which labelled plates a kept detection matches, in the same greedy matching over all the
    detections that the P/R counts use (so recall by width adds up to their recall)."""
    found = np.zeros(len(gt), bool)
    for d, g in assign_detections(boxes, scores, gt):
        if g >= 0 and kept[d]:
            found[g] = True
    return found


def recall_by_width(rows: list[tuple[float, bool, bool]]) -> dict[str, dict[str, float]]:
    """Recall per plate-width bucket: (width at the network's input, found, found with check)."""
    out: dict[str, dict[str, float]] = {}
    for lo, hi in WIDTH_BUCKETS:
        sel = [(f, c) for w, f, c in rows if lo <= w < hi]
        name = f"{lo}-{hi}" if hi < 10_000 else f">={lo}"
        out[name] = {
            "plates": len(sel),
            "recall": float(np.mean([f for f, _ in sel])) if sel else 0.0,
            "recall_with_reader_check": float(np.mean([c for _, c in sel])) if sel else 0.0,
        }
    return out


def evaluate_angles(engine: PlateEngine, data: Path, per_bucket: int) -> dict[str, object]:
    detector = engine.detector
    check = ReaderCheck.from_manifest(detector.manifest, detector.threshold)
    floor = min(check.candidate, detector.threshold)
    found: dict[str, list[bool]] = {bucket_name(b): [] for b in YAW_BUCKETS}
    found_checked: dict[str, list[bool]] = {bucket_name(b): [] for b in YAW_BUCKETS}
    ious: dict[str, list[float]] = {bucket_name(b): [] for b in YAW_BUCKETS}
    times: list[float] = []
    for sample in tqdm(
        angle_set(data, per_bucket), total=per_bucket * len(YAW_BUCKETS), desc="angles"
    ):
        t0 = time.perf_counter()
        dets = detector.detect([sample.image], threshold=floor)[0]
        times.append((time.perf_counter() - t0) * 1000)
        boxes = np.array([d.box for d in dets], np.float32).reshape(-1, 4)
        overlap = box_iou(boxes, sample.box[None])[:, 0] if len(boxes) else np.zeros(0)
        sure = [k for k, d in enumerate(dets) if d.score >= detector.threshold]
        hit = bool(sure) and overlap[sure].max() >= 0.5
        found[sample.bucket].append(hit)
        if hit:
            best = sure[int(overlap[sure].argmax())]
            ious[sample.bucket].append(quad_iou(dets[best].corners, sample.corners))
        on_plate = [d for d, o in zip(dets, overlap, strict=True) if o >= 0.5]
        reads = read_crops(engine, sample.image, on_plate)
        found_checked[sample.bucket].append(
            any(check.keeps(score=d.score, read=r)
                for d, r in zip(on_plate, reads, strict=True))
        )  # fmt: skip
    return {
        "recall_by_yaw": {k: float(np.mean(v)) for k, v in found.items()},
        "recall_by_yaw_with_reader_check": {k: float(np.mean(v)) for k, v in found_checked.items()},
        "corner_iou_by_yaw": {k: float(np.mean(v)) if v else 0.0 for k, v in ious.items()},
        "corner_iou_mean": float(np.mean([x for v in ious.values() for x in v] or [0.0])),
        "ms_per_photo_with_masks": _percentiles(times),
        "per_bucket": per_bucket,
    }


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_pr_curve(plt, report, out)
    plot_recall_by_angle(plt, report, out)
    plot_recall_by_width(plt, report, out)
    plt.close("all")


def plot_pr_curve(plt: Any, report: dict, out: Path) -> None:
    precision, recall, _ = report["real"].pop("_curve")
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(recall, precision, label="detector score")
    plain = report["real"]["all"]["at_threshold"]
    checked = report["real"]["all"]["with_reader_check"]
    ax.plot(
        plain["recall"],
        plain["precision"],
        "o",
        color="grey",
        label=f"threshold {report['threshold']:.2f} (F1 {plain['f1']:.3f})",
    )
    ax.plot(checked["recall"], checked["precision"], "*", color="#c0392b", markersize=11,
            label=f"with the reader's check (F1 {checked['f1']:.3f})")  # fmt: skip
    ax.legend(loc="lower left", fontsize=8)
    ax.set(xlabel="recall", ylabel="precision", title="Plate detection PR (real val, IoU ≥ 0.5)",
           xlim=(0, 1), ylim=(0, 1.02))  # fmt: skip
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "detect_pr_curve.png", dpi=120)


def plot_recall_by_angle(plt: Any, report: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 4))
    rec = report["angles"]["recall_by_yaw"]
    ax.bar(list(rec), list(rec.values()), color="#3b6ea5")
    ax.axhline(0.95, color="red", ls="--", label="target 0.95")
    ax.set(
        xlabel="yaw bucket (degrees)",
        ylabel="recall",
        ylim=(0, 1.05),
        title="Recall by angle (synthetic UA)",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "detect_recall_by_angle.png", dpi=120)


def plot_recall_by_width(plt: Any, report: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    widths = report["real"]["all"]["recall_by_width"]
    x = np.arange(len(widths))
    alone = [v["recall"] for v in widths.values()]
    with_check = [v["recall_with_reader_check"] for v in widths.values()]
    ax.bar(x - 0.2, alone, 0.4, color="grey", label="detector alone")
    ax.bar(x + 0.2, with_check, 0.4, color="#c0392b", label="with the reader's check")
    for k, v in enumerate(widths.values()):
        ax.text(k, 1.02, f"n={v['plates']}", ha="center", fontsize=8)
    ax.set_xticks(x, list(widths))
    ax.set(xlabel="plate width at the network's input (px)", ylabel="recall", ylim=(0, 1.1),
           title="Recall by plate width (real val)")  # fmt: skip
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "detect_recall_by_width.png", dpi=120)


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m recognition.evaluation detect", description=__doc__)
    p.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    p.add_argument("--out", type=Path, default=Path("bench/out"))
    p.add_argument("--per-bucket", type=int, default=40)
    p.add_argument("--limit", type=int, default=None, help="first N real val images only")
    p.add_argument("--threads", type=int, default=2)
    return p


def main(argv: list[str] | None = None) -> dict:
    args = get_args_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    # The engine as deployed (no peer), reading with every region's formats (the val photos
    # come from several countries): the reader's check weighs its readings.
    engine = load_engine(args.models, with_peer=False, regions=ALL_REGIONS)
    detector = engine.detector
    check = ReaderCheck.from_manifest(detector.manifest, detector.threshold)
    args.out.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode():
        report = {
            "model": detector.version,
            "threshold": detector.threshold,
            "reader_check": check.to_json(),
            "reader": engine.reader.version,
            "real": evaluate_real(engine, args.data, args.limit),
            "angles": evaluate_angles(engine, args.data, args.per_bucket),
        }
    plot(report, args.out)
    (args.out / "detect.json").write_text(json.dumps(report, indent=2))
    _print_summary(report)
    return report


def _print_summary(report: dict) -> None:
    real = report["real"]
    check = report["reader_check"]
    lines = [
        f"detector {report['model']} (threshold {report['threshold']:.2f}); reader check: sure "
        f"{check['sure']:.2f}, candidates {check['candidate']:.2f} read at confidence "
        f">= {check['min_confidence']:.2f}, readings of >= {check['min_chars']} characters, by "
        f"{report['reader']}",
        f"  {'':20s} {'detector alone':28s} {'with the reader check':28s} reported as plates",
    ]
    for key in sorted(k for k in real if isinstance(real[k], dict) and "at_threshold" in real[k]):
        row = (real[key][name] for name in ("at_threshold", "with_reader_check", "reported"))
        lines.append(
            f"  {key:20s} "
            + "    ".join(
                f"P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}" for m in row
            )
        )
    lines.append("  recall by plate width at the network's input (all real val):")
    for name, v in real["all"]["recall_by_width"].items():
        lines.append(
            f"    {name:>8} px: {v['plates']:3d} plates  recall {v['recall']:.3f}  "
            f"with the check {v['recall_with_reader_check']:.3f}"
        )
    ms = real["ms_per_photo"]
    lines.append(f"  network ms/photo p50 {ms['p50']:.0f}  p95 {ms['p95']:.0f}")
    ang = report["angles"]
    for k, v in ang["recall_by_yaw"].items():
        lines.append(
            f"  yaw {k:>6}: recall {v:.3f} (with the check "
            f"{ang['recall_by_yaw_with_reader_check'][k]:.3f})  corner IoU "
            f"{ang['corner_iou_by_yaw'][k]:.3f}"
        )
    ms = ang["ms_per_photo_with_masks"]
    lines.append(f"  detect+corners ms/photo p50 {ms['p50']:.0f}  p95 {ms['p95']:.0f}")
    log.info("\n%s", "\n".join(lines))
    print("\n".join(lines))  # noqa: T201 - this is the benchmark's report
