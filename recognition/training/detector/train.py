"""Train the plate detector from random weights on real scenes plus pasted synthetic plates.

    python -m recognition.training.detector.train --data ../shared/datasets --out runs/detector

A run is resumable: it restarts from `OUT/last.pth` when that file exists. `--export` writes the
best checkpoint (by validation F1) to `models/detector/` with its manifest, and its score threshold
set on real train photos.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from recognition.datasets import load_records
from recognition.evaluation.metrics import box_iou
from recognition.pipeline.maskrcnn import DetectorConfig, build_detector
from recognition.pipeline.plate_detector import PlateDetector
from recognition.pipeline.weights import MANIFEST, sha256_file, write_manifest
from recognition.synth.angle_set import YAW_BUCKETS, AngleSample, angle_set
from recognition.synth.distractors import ALL_KINDS, KINDS
from recognition.synth.plates import FORMATS
from recognition.training.detector.loop import evaluate, save_checkpoint, train_one_epoch
from recognition.training.detector.scenes import (
    PASTE_FORMATS,
    PlateSceneDataset,
    collate,
    validation_subset,
)

log = logging.getLogger("train_detector")
DETECTOR_VERSION_PREFIX = "det"
# The operating threshold may not drop synthetic recall below this in any yaw bucket up to 60
# degrees (the product's promise for steep camera angles), measured on train scenes.
ANGLE_RECALL_FLOOR = 0.95
ANGLE_CHECK_SEED = 7  # not the evaluation set's seed, and train scenes, not val ones


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", type=Path, required=True, help="the shared datasets folder")
    p.add_argument("--out", type=Path, default=Path("runs/detector"))
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=300, help="linear warm-up steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    _add_model_args(p)
    _add_scene_args(p)
    p.add_argument("--train-sizes", type=int, nargs="+", default=[448, 512, 576])
    p.add_argument(
        "--val-limit", type=int, default=120,
        help="val images scored each epoch; with --export, train images the threshold is set on",
    )  # fmt: skip
    p.add_argument(
        "--pseudo-from-epoch",
        type=int,
        default=2,
        help="from this epoch on, confident unlabelled detections on partially labelled sets "
        "become labels",
    )
    p.add_argument("--pseudo-threshold", type=float, default=0.8)
    p.add_argument("--time-budget", type=float, default=0, help="stop after this many minutes")
    p.add_argument(
        "--init-from", type=Path, default=None,
        help="start from these weights (a best.pth) with a fresh optimizer and schedule",
    )  # fmt: skip
    p.add_argument("--export", type=Path, default=None, help="write best weights here and stop")
    p.add_argument(
        "--refit-threshold", type=Path, default=None, metavar="DIR",
        help="set the operating threshold of the exported weights in DIR (e.g. models/detector) "
        "again, as --export sets it, rewrite its manifest and stop",
    )  # fmt: skip
    p.add_argument(
        "--angle-check", type=int, default=100,
        help="with --export: synthetic plates per yaw bucket (train scenes) that bound the "
        f"threshold so recall up to 60 degrees stays at least {ANGLE_RECALL_FLOOR}; 0 skips",
    )  # fmt: skip
    return p


def _add_model_args(p: argparse.ArgumentParser) -> None:
    """The network's shape (stored in the exported manifest's `config`)."""
    p.add_argument(
        "--backbone", default="mobilenet_v3_large", choices=["mobilenet_v3_large", "resnet18"]
    )
    p.add_argument("--fpn-channels", type=int, default=96)
    p.add_argument("--min-size", type=int, default=512, help="inference short side")
    p.add_argument("--max-size", type=int, default=768, help="inference long side limit")
    p.add_argument(
        "--anchor-sizes", type=int, nargs="+", default=list(DetectorConfig.anchor_sizes),
        help="anchor sizes, smallest first; the last N are used for the N pyramid levels",
    )  # fmt: skip


def _add_scene_args(p: argparse.ArgumentParser) -> None:
    """How the synthetic training scenes are drawn (`PlateSceneDataset`)."""
    p.add_argument(
        "--new-plate-width", type=float, nargs=2, default=[0.04, 0.3], metavar=("MIN", "MAX"),
        help="width of newly pasted synthetic plates as a share of the scene",
    )  # fmt: skip
    p.add_argument(
        "--log-width-share", type=float, default=1.0,
        help="share of new plates sized log-uniformly; the rest uniformly over the same range",
    )  # fmt: skip
    p.add_argument(
        "--p-distractor", type=float, default=0.0,
        help="share of scenes given unlabelled look-alikes (lights, badges, signs) as background",
    )  # fmt: skip
    p.add_argument(
        "--distractor-kinds", nargs="+", default=list(KINDS), choices=ALL_KINDS,
        help="kinds of look-alikes drawn, uniformly (repeat one to weight it)",
    )  # fmt: skip
    p.add_argument("--max-new-plates", type=int, default=2, help="new plates per scene, 0 to N")
    p.add_argument(
        "--p-privacy", type=float, default=0.0,
        help="share of pasted plates pixelated or blurred as photo sites hide plates",
    )  # fmt: skip
    p.add_argument(
        "--paste-formats", nargs="+", default=list(PASTE_FORMATS), choices=FORMATS,
        help="formats of pasted synthetic plates, drawn uniformly (repeat one to weight it)",
    )  # fmt: skip


def _config(args: argparse.Namespace) -> DetectorConfig:
    return DetectorConfig(
        backbone=args.backbone,
        fpn_channels=args.fpn_channels,
        min_size=args.min_size,
        max_size=args.max_size,
        anchor_sizes=tuple(args.anchor_sizes),
    )


def export(args: argparse.Namespace) -> Path:
    best = torch.load(args.out / "best.pth", map_location="cpu", weights_only=True)
    cfg = DetectorConfig.from_json(json.loads(best["config"]))
    val = json.loads(best["metrics"])
    model = build_detector(cfg)
    model.load_state_dict(best["model"])
    point = operating_point(model, cfg, args)
    args.export.mkdir(parents=True, exist_ok=True)
    weights = args.export / "detector.pth"
    torch.save(best["model"], weights)
    # The step alone repeats across rounds (a one-epoch round ends at step 586, as round 4 did),
    # so the weights' own hash makes the version unique.
    stamp = f"{time.strftime('%Y%m%d')}-s{best['step']}-{sha256_file(weights)[:8]}"
    version = f"{DETECTOR_VERSION_PREFIX}-{stamp}"
    manifest = write_manifest(
        weights,
        version=version,
        input_size=[cfg.min_size, cfg.max_size],
        extra={
            "config": cfg.to_json(),
            "val": val,
            "step": best["step"],
            **point,
        },
    )
    log.info("exported %s (%s)", weights, manifest["sha256"])
    return weights


def operating_point(
    model: torch.nn.Module, cfg: DetectorConfig, args: argparse.Namespace
) -> dict[str, float | None]:
    """The manifest's `threshold`, with what set it: the F1-best score threshold on real train
    photos (a choice is made on the train split; the val photos only report it), kept in a sane
    range, and low enough that steep plates are still found."""
    fitted = train_f1_threshold(model, cfg, args.data, args.seed, args.val_limit)
    threshold = round(min(max(fitted, 0.3), 0.9), 3)
    angle_cap = None
    if args.angle_check:
        angle_cap = angle_safe_threshold(
            PlateDetector(model, cfg, "candidate"), args.data, args.angle_check
        )
        threshold = round(min(threshold, angle_cap), 3)
    return {"threshold": threshold, "train_f1_threshold": fitted, "angle_safe_threshold": angle_cap}


def refit_threshold(args: argparse.Namespace) -> dict[str, float | None]:
    """Set the operating point of the weights exported to `args.refit_threshold` again (weights
    exported before it was chosen on train photos) and write it into their manifest."""
    detector = PlateDetector.load(args.refit_threshold)
    with torch.inference_mode():
        point = operating_point(detector.model, detector.config, args)
    path = args.refit_threshold / MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, **point}, indent=2) + "\n")
    log.info("operating point of %s: %s", detector.version, point)
    return point


def train_f1_threshold(
    model: torch.nn.Module, cfg: DetectorConfig, data: Path, seed: int, limit: int
) -> float:
    """The score threshold of best F1 on `limit` real train photos drawn by `seed`, unaugmented
    and at the inference size."""
    photos, ignore = validation_subset(data, seed, limit, split="train")
    model.transform.min_size = (cfg.min_size,)
    model.transform.max_size = cfg.max_size
    return float(evaluate(model, photos, lambda i: ignore[i])["threshold"])


def promised_angle_check(data: Path, per_bucket: int) -> Iterator[AngleSample]:
    """The synthetic plates (train scenes, seed ANGLE_CHECK_SEED) of the yaw buckets up to 60
    degrees, with a progress bar: what the exported threshold and the reader check must keep."""
    promised = len(YAW_BUCKETS) - 1  # 60-75 degrees is reported, not promised
    # The set is drawn bucket by bucket, so stopping before the last changes none of the rest.
    samples = itertools.islice(
        angle_set(data, per_bucket, ANGLE_CHECK_SEED, split="train"), per_bucket * promised
    )
    yield from tqdm(samples, total=per_bucket * promised, desc="angle check")


def angle_safe_threshold(detector: PlateDetector, data: Path, per_bucket: int) -> float:
    """The highest score threshold that keeps recall >= ANGLE_RECALL_FLOOR in every yaw bucket
    up to 60 degrees, on synthetic plates pasted into train scenes."""
    detector.threshold = detector.config.score_thresh
    scores: dict[str, list[float]] = {}
    for sample in promised_angle_check(data, per_bucket):
        dets = detector.detect([sample.image])[0]
        boxes = np.array([d.box for d in dets], np.float32).reshape(-1, 4)
        found = np.array([d.score for d in dets], np.float32)
        found = found[box_iou(boxes, sample.box[None])[:, 0] >= 0.5] if len(dets) else found
        scores.setdefault(sample.bucket, []).append(float(found.max(initial=0.0)))
    caps = {bucket: recall_keeping_threshold(found, ANGLE_RECALL_FLOOR)
            for bucket, found in scores.items()}  # fmt: skip
    rounded = {k: round(v, 3) for k, v in caps.items()}
    log.info("angle check: highest threshold per bucket %s", rounded)
    return float(min(caps.values()))


def recall_keeping_threshold(best_scores: list[float], floor: float) -> float:
    """The highest threshold at which at least `floor` of the plates are still found, given each
    plate's best matching score (0 where it was not found at all)."""
    if not best_scores:
        raise ValueError("no plates to measure recall on")
    keep = math.ceil(floor * len(best_scores))
    return float(sorted(best_scores, reverse=True)[keep - 1])


def main(args: argparse.Namespace) -> None:
    if args.refit_threshold:
        torch.set_num_threads(args.threads)
        refit_threshold(args)
        return
    if args.export:
        export(args)
        return
    if args.epochs < 1:
        raise SystemExit("--epochs must be at least 1")
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    run = DetectorRun(args)
    start_epoch = run.resume()
    for epoch in range(start_epoch, args.epochs):
        run.train_epoch(epoch)
        run.validate_epoch(epoch)
        if run.out_of_time:
            log.info("time budget of %.0f min reached after epoch %d", args.time_budget, epoch)
            break
    minutes = (time.monotonic() - run.started) / 60
    log.info("done in %.1f min; best val F1 %.3f", minutes, run.best_f1)


class DetectorRun:
    """One training run's model, data, optimiser and progress, checkpointed to `--out`."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cfg = _config(args)
        self.model = build_detector(self.cfg)
        self.train_sizes()
        self.train_set = PlateSceneDataset(
            load_records(args.data, "train"), seed=args.seed,
            new_width=tuple(args.new_plate_width), p_privacy=args.p_privacy,
            log_share=args.log_width_share, max_new=args.max_new_plates,
            p_distractor=args.p_distractor, paste_formats=tuple(args.paste_formats),
            distractor_kinds=tuple(args.distractor_kinds),
        )  # fmt: skip
        self.val_set, self.ignore = validation_subset(args.data, args.seed, args.val_limit)
        total = len(self.train_set) // args.batch_size * args.epochs
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=args.lr, weight_decay=args.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda s: float(
                min(1.0, (s + 1) / args.warmup) * 0.5 * (1 + np.cos(np.pi * min(s, total) / total))
            ),
        )
        self.step, self.best_f1 = 0, -1.0
        self.last = args.out / "last.pth"
        self.started = time.monotonic()
        self.out_of_time = False

    def train_sizes(self) -> None:
        """Multi-scale training: the network sees each batch at one of `--train-sizes`."""
        self.model.transform.min_size = tuple(self.args.train_sizes)
        self.model.transform.max_size = max(
            self.args.max_size, int(max(self.args.train_sizes) * 1.5)
        )

    def resume(self) -> int:
        """Start from `--init-from` or resume `last.pth`; returns the epoch to start at."""
        start_epoch = 0
        if self.args.init_from and not self.last.exists():
            state = torch.load(self.args.init_from, map_location="cpu", weights_only=True)
            self.model.load_state_dict(state["model"])
            log.info("initialised from %s", self.args.init_from)
        if self.last.exists():
            # Checkpoints written before the schedule returned plain floats hold numpy scalars.
            with torch.serialization.safe_globals(
                [np._core.multiarray.scalar, np.dtype, np.dtypes.Float64DType]
            ):
                state = torch.load(self.last, map_location="cpu", weights_only=True)
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            start_epoch, self.step, self.best_f1 = state["epoch"], state["step"], state["best_f1"]
            log.info(
                "resumed from %s at epoch %d step %d (best F1 %.3f)",
                self.last, start_epoch, self.step, self.best_f1,
            )  # fmt: skip
        self.started = time.monotonic()
        return start_epoch

    def save_state(self, epoch: int, s: int) -> None:
        state = {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}
        save_checkpoint(
            self.last, model=self.model.state_dict(), epoch=epoch, step=s, best_f1=self.best_f1,
            **state,
        )  # fmt: skip

    def checkpoint(self, epoch: int, s: int) -> None:
        if s % 100 == 0:
            self.save_state(epoch, s)
        if self.args.time_budget and time.monotonic() - self.started > self.args.time_budget * 60:
            self.out_of_time = True

    def train_epoch(self, epoch: int) -> None:
        args = self.args
        self.train_set.epoch = epoch
        g = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        loader = DataLoader(self.train_set, batch_size=args.batch_size, shuffle=True, generator=g,
                            collate_fn=collate, num_workers=0)  # fmt: skip
        # Resuming mid-epoch: the same seed gives the same order, so skip the batches seen.
        done = max(0, self.step - epoch * len(loader))
        batches = itertools.islice(loader, done, None) if done else loader
        self.step = train_one_epoch(
            self.model, self.optimizer, self.scheduler,
            _stop_when(batches, lambda: self.out_of_time), epoch, self.step,
            lambda s: self.checkpoint(epoch, s),
            pseudo_threshold=args.pseudo_threshold if epoch >= args.pseudo_from_epoch else None,
        )  # fmt: skip

    def validate_epoch(self, epoch: int) -> None:
        """Score the val subset at the inference size; keep the best weights and the progress."""
        self.model.transform.min_size = (self.cfg.min_size,)
        self.model.transform.max_size = self.cfg.max_size
        metrics = evaluate(self.model, self.val_set, lambda i: self.ignore[i])
        self.train_sizes()
        log.info("epoch %d step %d val %s", epoch, self.step, metrics)
        with (self.args.out / "metrics.jsonl").open("a") as fh:
            fh.write(json.dumps({"epoch": epoch, "step": self.step, **metrics}) + "\n")
        if metrics["f1"] > self.best_f1:
            self.best_f1 = metrics["f1"]
            save_checkpoint(
                self.args.out / "best.pth", model=self.model.state_dict(), step=self.step,
                config=json.dumps(self.cfg.to_json()), metrics=json.dumps(metrics),
            )  # fmt: skip
        self.save_state(epoch + 1, self.step)


def _stop_when(loader, stop):
    for batch in loader:
        if stop():
            return
        yield batch


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main(get_args_parser().parse_args())
