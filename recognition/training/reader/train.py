"""Fine-tune the plate reader (EasyOCR custom recogniser) with CTC on synthetic and real lines.

The network starts from PaddleOCR's pretrained PP-OCR recogniser, converted once:

    python -m recognition.training.reader.ppocr_convert --out runs/ppocr
    python -m recognition.training.reader.train --data ../shared/datasets --out runs/ocr \
        --graph runs/ppocr/skeleton.onnx --init-from runs/ppocr/init.pth --epochs 24
    python -m recognition.training.reader.train --resume runs/ocr/checkpoint.pth ...
    python -m recognition.training.reader.train --out runs/ocr --export models/ocr

On a machine with a GPU and without the datasets, pack the real crops here first
(`--write-bundle`, see `bundle.py`), then train there with `--bundle F --device cuda`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from recognition.datasets import CHARSET, RealCrop, load_detected_crops, load_real_crops
from recognition.evaluation.metrics import score_text
from recognition.pipeline import ppocr_net
from recognition.pipeline.ocr import INT8_GRAPH
from recognition.pipeline.ocr_input import LINE_H, LINE_W
from recognition.pipeline.weights import sha256_file, write_manifest
from recognition.synth.crops import FORMAT_WEIGHTS
from recognition.training.reader.bundle import read_bundle, write_bundle
from recognition.training.reader.lines import VAL_FORMATS, LineStream, synth_val_set
from recognition.training.reader.loop import Schedule, accuracy, read_lines, train_one_epoch

logger = logging.getLogger("recognition.training.reader.train")

MODEL_NAME = "platereader"
# EasyOCR passes these to `Model`; the graph file is copied beside the exported network code.
NETWORK_PARAMS = {"graph_file": f"{MODEL_NAME}.onnx"}


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Plate reader (CTC) training", add_help=add_help)
    p.add_argument("--data", default="../shared/datasets", type=Path, help="datasets directory")
    p.add_argument("--out", default="runs/ocr", type=Path, help="checkpoints and logs")
    p.add_argument("--epochs", default=24, type=int)
    p.add_argument("--steps-per-epoch", default=400, type=int)
    p.add_argument("--batch-size", default=64, type=int)
    p.add_argument("--lr", default=2e-3, type=float, help="peak learning rate (one-cycle)")
    p.add_argument(
        "--time-budget", default=0.0, type=float, help="minutes of training (0: no limit)"
    )
    p.add_argument("--weight-decay", default=1e-4, type=float)
    p.add_argument("--real-fraction", default=0.3, type=float, help="share of real crops per batch")
    p.add_argument("--workers", default=1, type=int, help="data generation processes")
    p.add_argument("--threads", default=1, type=int, help="torch threads for the training step")
    p.add_argument("--val-synth", default=300, type=int, help="size of the synthetic UA val set")
    p.add_argument("--seed", default=0, type=int)
    p.add_argument(
        "--format-weights",
        default=None,
        type=format_weights,
        help="the synthetic mix's weights to change, e.g. ua_transit=4,ua_moto=2 "
        "(the rest as recognition.synth.crops.FORMAT_WEIGHTS)",
    )
    p.add_argument(
        "--val-formats",
        default=",".join(VAL_FORMATS),
        type=lambda v: tuple(v.split(",")),
        help="one-row formats of the synthetic val set",
    )
    p.add_argument(
        "--detected-crops",
        default=[],
        nargs="+",
        type=Path,
        help="folders of train crops cut through the detector (training.reader.detected_crops, "
        "train split; manage.py export_corrections' OUT/train)",
    )
    p.add_argument(
        "--detected-val",
        default=[],
        nargs="+",
        type=Path,
        help="folders of val crops cut through the detector, scored with the real val crops "
        "(export_corrections' OUT/val)",
    )
    p.add_argument(
        "--graph",
        default="runs/ppocr/skeleton.onnx",
        type=Path,
        help="the network's graph (recognition.training.reader.ppocr_convert)",
    )
    p.add_argument(
        "--bundle",
        default=None,
        type=Path,
        help="train and val crops from this file (bundle.py) instead of --data and the "
        "detected crops",
    )
    p.add_argument(
        "--write-bundle",
        default=None,
        type=Path,
        help="pack the real train and val crops (--data, detected crops) into this file and stop",
    )
    p.add_argument(
        "--device",
        default="cpu",
        help="where the network trains: cpu, cuda, or auto (cuda when there is one)",
    )
    p.add_argument("--resume", default=None, type=Path, help="checkpoint to resume from")
    p.add_argument(
        "--init-from",
        default=None,
        type=Path,
        help="warm-start weights (non-strict): a checkpoint, or an exported platereader.pth",
    )
    p.add_argument("--test-only", action="store_true", help="only validate --resume")
    p.add_argument(
        "--export",
        default=None,
        type=Path,
        help="write --out's best weights here (models/ocr) and stop",
    )
    return p


def format_weights(text: str) -> dict[str, float]:
    """`ua_transit=4,ua_moto=2` -> FORMAT_WEIGHTS with those two weights changed."""
    mix: dict[str, float] = dict(FORMAT_WEIGHTS)
    for item in text.split(","):
        fmt, _, weight = item.partition("=")
        if fmt not in mix:
            raise argparse.ArgumentTypeError(f"unknown format {fmt!r}; known: {', '.join(mix)}")
        mix[fmt] = float(weight)
    return mix


def build_model(graph: Path) -> ppocr_net.Model:
    return ppocr_net.Model(num_class=len(CHARSET) + 1, graph_file=str(graph.resolve()))


def warm_start_state(loaded: dict) -> dict[str, torch.Tensor]:
    """The model's weights from a training checkpoint or from an exported reader, whose keys
    carry EasyOCR's `module.` prefix (so the shipped weights can seed a new round)."""
    if "model" in loaded:
        return loaded["model"]
    return {k.removeprefix("module."): v for k, v in loaded.items()}


def _batches(loader: DataLoader) -> Iterator[list[tuple[np.ndarray, str]]]:
    while True:
        yield from loader


def validate(model: torch.nn.Module, real_val: list, synth_val: list) -> dict[str, float]:
    scores: dict[str, float] = {}
    preds = read_lines(model, [c.image for c in real_val])
    for key, val in accuracy(preds, [c.text for c in real_val]).items():
        scores[f"real_{key}"] = val
    for source in sorted({c.source for c in real_val}):
        idx = [i for i, c in enumerate(real_val) if c.source == source]
        sub = accuracy([preds[i] for i in idx], [real_val[i].text for i in idx])
        scores[f"{source}_exact"] = sub["exact"]
    spreds = read_lines(model, [img for img, _ in synth_val])
    for key, val in accuracy(spreds, [t for _, t in synth_val]).items():
        scores[f"synth_ua_{key}"] = val
    # One number to pick the best checkpoint: real and Ukrainian plates weigh the same.
    scores["score"] = 0.5 * scores["real_exact"] + 0.5 * scores["synth_ua_exact"]
    return scores


def export(checkpoint: Path, models_dir: Path, graph: Path, quantize: bool = False) -> dict:
    """Write the EasyOCR custom-model files and the manifest that the reader checks at load."""
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    graph = Path(ckpt.get("args", {}).get("graph", graph))
    models_dir.mkdir(parents=True, exist_ok=True)
    # EasyOCR strips a 7-character `module.` prefix from every key (a DataParallel habit).
    state = {f"module.{k}": v for k, v in ckpt["model"].items()}
    weights = models_dir / f"{MODEL_NAME}.pth"
    torch.save(state, weights)
    # an int8 graph of the previous weights would no longer match: quantize.py makes a new one
    (models_dir / INT8_GRAPH).unlink(missing_ok=True)
    shutil.copyfile(Path(ppocr_net.__file__), models_dir / f"{MODEL_NAME}.py")
    shutil.copyfile(graph, models_dir / NETWORK_PARAMS["graph_file"])
    yaml_text = (
        "network_params:\n"
        + "".join(f"  {k}: {v}\n" for k, v in NETWORK_PARAMS.items())
        + f"imgH: {LINE_H}\n"
        + "lang_list: ['en']\n"
        + f"character_list: '{CHARSET}'\n"
    )
    (models_dir / f"{MODEL_NAME}.yaml").write_text(yaml_text)
    digest = sha256_file(weights)
    manifest = write_manifest(
        weights,
        version=f"ocr-{datetime.datetime.now(tz=datetime.UTC):%Y%m%d}-{digest[:8]}",
        input_size=[LINE_H, LINE_W],
        extra={
            "name": MODEL_NAME,
            "character_list": CHARSET,
            "network_params": NETWORK_PARAMS,
            "graph_sha256": sha256_file(models_dir / NETWORK_PARAMS["graph_file"]),
            "pretrained": "PP-OCRv6_rec_small.onnx from the rapidocr wheel (Apache-2.0)",
            "quantize": quantize,
            "epoch": ckpt.get("epoch"),
            "val": ckpt.get("val", {}),
        },
    )
    logger.info("exported %s (%s) to %s", checkpoint, manifest["version"], models_dir)
    return manifest


def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.export:
        export(args.out / "best.pth", args.export, args.graph)
        return
    if args.write_bundle:
        real_train, real_val = load_real(args)
        n = write_bundle(args.write_bundle, {"train": real_train, "val": real_val})
        logger.info("wrote %d crops to %s", n, args.write_bundle)
        return
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    real_train, real_val, synth_val = load_data(args)
    model = build_model(args.graph).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = Schedule(args.lr, args.epochs * args.steps_per_epoch, args.time_budget * 60)
    start_epoch, best = start_from(args, model, optimizer, schedule)
    if args.test_only:
        logger.info("val: %s", json.dumps(validate(model, real_val, synth_val)))
        return
    for epoch in range(start_epoch, args.epochs):
        if schedule.progress >= 1.0:
            break
        best = run_epoch(
            args, epoch, best, model, optimizer, schedule, real_train, (real_val, synth_val)
        )


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def load_real(args: argparse.Namespace) -> tuple[list[RealCrop], list[RealCrop]]:
    """Real train and val crops (with the detector's crops where given), or a bundle's."""
    if args.bundle:
        splits = read_bundle(args.bundle)
        return without_val_plates(splits["train"], splits["val"]), splits["val"]
    real_train = load_real_crops(args.data, "train")
    real_val = load_real_crops(args.data, "val", margin=0.04)
    for folder in args.detected_crops:
        real_train += load_detected_crops(folder)
    for folder in args.detected_val:
        real_val += load_detected_crops(folder)
    return without_val_plates(real_train, real_val), real_val


def without_val_plates(train: list[RealCrop], val: list[RealCrop]) -> list[RealCrop]:
    """The train crops of plates that no val crop shows. The sets are split photo by photo, and
    several photos (video frames, the same car again) show one plate: 129 of the 177 Brazilian
    val crops are a plate of the train split, so training on it would score the val crops on
    plates the reader learnt. Texts compare as scored (O->0, I->1)."""
    held_out = {score_text(c.text) for c in val}
    kept = [c for c in train if score_text(c.text) not in held_out]
    if len(kept) < len(train):
        logger.info("left out %d train crops of plates in the val split", len(train) - len(kept))
    return kept


def load_data(
    args: argparse.Namespace,
) -> tuple[list[RealCrop], list[RealCrop], list[tuple[np.ndarray, str]]]:
    """Real train and val crops, synthetic val lines."""
    real_train, real_val = load_real(args)
    synth_val = synth_val_set(args.val_synth, formats=args.val_formats)
    logger.info(
        "real crops: %d train, %d val; synthetic val %d",
        len(real_train),
        len(real_val),
        len(synth_val),
    )
    return real_train, real_val, synth_val


def start_from(
    args: argparse.Namespace,
    model: ppocr_net.Model,
    optimizer: torch.optim.Optimizer,
    schedule: Schedule,
) -> tuple[int, float]:
    """Warm-start or resume `model` (and the optimiser and schedule on resume): (epoch, best)."""
    start_epoch, best = 0, -1.0
    if args.init_from and not args.resume:
        state = warm_start_state(torch.load(args.init_from, map_location="cpu", weights_only=True))
        missing, _ = model.load_state_dict(state, strict=False)
        logger.info("warm start from %s; new layers: %s", args.init_from, missing)
    if args.resume:
        ckpt = torch.load(args.resume, map_location="cpu", weights_only=True)
        model.load_state_dict(ckpt["model"])
        if not args.test_only:
            optimizer.load_state_dict(ckpt["optimizer"])
            schedule.load_state_dict(ckpt["schedule"])
        start_epoch, best = ckpt["epoch"] + 1, ckpt.get("best", -1.0)
        logger.info("resumed from %s at epoch %d", args.resume, start_epoch)
    return start_epoch, best


def run_epoch(
    args: argparse.Namespace,
    epoch: int,
    best: float,
    model: ppocr_net.Model,
    optimizer: torch.optim.Optimizer,
    schedule: Schedule,
    real_train: list[RealCrop],
    val_sets: tuple[list[RealCrop], list[tuple[np.ndarray, str]]],
) -> float:
    """One epoch of training, then validation and checkpoints; returns the best score so far."""
    # Each epoch gets a fresh stream seed so that a resumed run does not replay the same samples.
    stream = LineStream(
        real_train,
        args.real_fraction,
        seed=args.seed * 100 + epoch,
        format_weights=args.format_weights,
    )
    loader = DataLoader(
        stream, batch_size=args.batch_size, num_workers=args.workers, collate_fn=list
    )
    stats = train_one_epoch(
        model, _batches(loader), optimizer, schedule, args.steps_per_epoch, epoch
    )
    t0 = time.perf_counter()
    val = validate(model, *val_sets)
    stats["val_sec"] = time.perf_counter() - t0
    is_best = val["score"] > best
    best = max(best, val["score"])
    ckpt = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "epoch": epoch,
        "best": best,
        "val": val,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    torch.save(ckpt, args.out / "checkpoint.pth")
    if is_best:
        torch.save(ckpt, args.out / "best.pth")
    record = {"epoch": epoch, **stats, **val, "best": is_best, "time": time.time()}
    with (args.out / "log.jsonl").open("a") as fh:
        fh.write(json.dumps(record) + "\n")
    logger.info("epoch %d: %s", epoch, json.dumps(record))
    return best


if __name__ == "__main__":
    main(get_args_parser().parse_args())
