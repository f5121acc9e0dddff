"""Fit the reader's check on detections (recognition/pipeline/reader_check.py) for a detector and
reader pair and store it in the detector's manifest.

    python -m recognition.training.fit_reader_check --data ../shared/datasets --models models

The check is chosen by the F1 of the plates the engine reports with it on `--fit-images` real
train photos drawn by `--seed` (a choice is made on the train split, never on val): a kept
detection is reported when its reading fits a plate format, and it is right when it is a labelled
plate read as labelled (a wrong reading is a wrong report, as a look-alike is). Only checks that
keep detection recall >= 0.95 in every yaw bucket up to 60 degrees on synthetic plates in train
scenes (the promise the detector's threshold keeps) qualify.
Unmatched reports on partially labelled photos (`unsure`) only break ties: the labels cannot say
whether they are junk or an unlabelled plate. The val photos, none of which it was fitted on,
are scored too and printed, as the held-out figure. `--dry-run` prints without writing.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from recognition.datasets import PARTIAL_LABEL_SETS, SceneRecord, load_records, read_rgb
from recognition.evaluation.check_fit import (
    ALL_REGIONS,
    Scored,
    check_f1,
    fit_check,
    plate_recall,
    read_crops,
    scored_candidates,
)
from recognition.evaluation.metrics import box_iou
from recognition.pipeline.engine import PlateEngine, load_engine
from recognition.pipeline.reader_check import CropRead, ReaderCheck
from recognition.pipeline.weights import MANIFEST
from recognition.training.detector.train import ANGLE_RECALL_FLOOR, promised_angle_check

log = logging.getLogger(__name__)

# The grid. Few plates are found below 0.5 and fewer read: of the 16 val plates found at 0.05-0.5
# (round 6 weights) one reads at confidence 0.1 or more, so candidates start at 0.1 at the lowest.
CANDIDATE_GRID = (0.1, 0.2, 0.3, 0.5, 0.7)
SURE_GRID = (0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
CONFIDENCE_GRID = (0.02, 0.05, 0.1, 0.2, 0.3)
# Shortest reading kept: 0 weighs no length; 3 and 4 allow one or no character lost at a plate's
# edge from the 4-character serials, the shortest standard ones of the formats we read.
MIN_CHARS_GRID = (0, 3, 4)
# The reader's confidence a sure detection needs: 0 takes the detector's word.
SURE_CONFIDENCE_GRID = (0.0, 0.01, 0.02, 0.05)


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--models", type=Path, default=Path("models"), help="holds detector/ and ocr/")
    p.add_argument(
        "--fit-images", type=int, default=120, help="train photos the check is fitted on"
    )
    p.add_argument("--seed", type=int, default=0, help="draws the fit photos")
    p.add_argument("--angle-check", type=int, default=100, help="synthetic plates per yaw bucket")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dry-run", action="store_true", help="print the fitted check, write nothing")
    return p


def grid(threshold: float) -> Iterator[ReaderCheck]:
    """The detector's plain threshold first (ties keep it), then every combination, the ones
    that ask least of the reader first (ties keep the simpler check)."""
    yield ReaderCheck.plain(threshold)
    for sure_confidence, chars, sure, candidate, confidence in itertools.product(
        SURE_CONFIDENCE_GRID, MIN_CHARS_GRID, SURE_GRID, CANDIDATE_GRID, CONFIDENCE_GRID
    ):
        yield ReaderCheck(
            sure=sure,
            candidate=candidate,
            min_confidence=confidence,
            min_chars=chars,
            sure_min_confidence=sure_confidence,
        )


def score_photos(
    engine: PlateEngine, records: list[SceneRecord], floor: float
) -> tuple[list[Scored], int]:
    """Every candidate the engine finds down to `floor` on `records` (the detector's, and the
    pieces of one plate joined), as (score, reading, matched, ignored)."""
    scored: list[Scored] = []
    n_gt = 0
    for rec in tqdm(records, desc="photos", unit="photo"):
        image, scale = read_rgb(rec.path, max_side=4096)
        dets = engine.detect([image], threshold=floor)[0]
        gt = np.array(rec.boxes, np.float32).reshape(-1, 4) * scale
        n_gt += len(gt)
        scored += scored_candidates(
            dets,
            read_crops(engine, image, dets),
            gt,
            ignore_unmatched=rec.dataset in PARTIAL_LABEL_SETS,
            texts=rec.texts,
        )
    return scored, n_gt


def angle_reads(
    engine: PlateEngine, data: Path, per_bucket: int, floor: float
) -> dict[str, list[list[tuple[float, CropRead]]]]:
    """Per yaw bucket up to 60 degrees, each plate's matching detections as (score, reading)."""
    plates: dict[str, list[list[tuple[float, CropRead]]]] = {}
    for sample in promised_angle_check(data, per_bucket):
        dets = engine.detect([sample.image], threshold=floor)[0]
        boxes = np.array([d.box for d in dets], np.float32).reshape(-1, 4)
        hits = box_iou(boxes, sample.box[None])[:, 0] >= 0.5 if dets else np.zeros(0, bool)
        hit_dets = [d for d, h in zip(dets, hits, strict=True) if h]
        crop_reads = read_crops(engine, sample.image, hit_dets)
        reads = [(d.score, r) for d, r in zip(hit_dets, crop_reads, strict=True)]
        plates.setdefault(sample.bucket, []).append(reads)
    return plates


def fit_and_held_out(
    data: Path, fit_images: int, seed: int
) -> tuple[list[SceneRecord], list[SceneRecord]]:
    """The photos the check is fitted on (`fit_images` train photos drawn by `seed`) and the
    photos it is scored on afterwards (every val photo, none of them seen by the fit)."""
    train = load_records(data, "train")
    rng = random.Random(seed)
    fit_idx = sorted(rng.sample(range(len(train)), min(fit_images, len(train))))
    return [train[i] for i in fit_idx], load_records(data, "val")


def main(args: argparse.Namespace) -> ReaderCheck:
    torch.set_num_threads(args.threads)
    # The engine as deployed (no peer), reading with the formats of every region the photos
    # come from; its check is what is being fitted, so only its cutting and reading are used.
    engine = load_engine(args.models, with_peer=False, regions=ALL_REGIONS)
    detector, reader = engine.detector, engine.reader.reader
    floor = min(CANDIDATE_GRID + (detector.threshold,))
    fit_recs, rest_recs = fit_and_held_out(args.data, args.fit_images, args.seed)
    with torch.inference_mode():
        fit_rows, fit_gt = score_photos(engine, fit_recs, floor)
        rest_rows, rest_gt = score_photos(engine, rest_recs, floor)
        plates = angle_reads(engine, args.data, args.angle_check, floor)
    check, fitted = fit_check(
        fit_rows, fit_gt, grid(detector.threshold), plate_reads=plates,
        recall_floor=ANGLE_RECALL_FLOOR, reports=True,
    )  # fmt: skip
    check = dataclasses.replace(check, reader=reader.version)
    plain = ReaderCheck.plain(detector.threshold)
    report = {
        "fit_images": len(fit_recs),
        "seed": args.seed,
        "fit": fitted,
        "fit_plain_threshold": check_f1(plain, fit_rows, fit_gt, reports=True),
        "held_out_images": len(rest_recs),
        "held_out": check_f1(check, rest_rows, rest_gt, reports=True),
        "held_out_plain_threshold": check_f1(plain, rest_rows, rest_gt, reports=True),
        "angle_recall": {bucket: plate_recall(check, found) for bucket, found in plates.items()},
    }
    summary = json.dumps({"reader_check": check.to_json(), **report}, indent=2)
    print(summary)  # noqa: T201 - the tool's report
    if not args.dry_run:
        path = args.models / "detector" / MANIFEST
        manifest = json.loads(path.read_text())
        manifest["reader_check"] = {**check.to_json(), "fitted": report}
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        log.info("reader check written to %s", path)
    return check


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main(get_args_parser().parse_args())
