"""Average detector checkpoints fine-tuned from the same weights (a "model soup").

    python -m recognition.training.detector.average_weights --data ../shared/datasets \\
        --inputs runs/detector4/best.pth runs/det5B/best.pth --out runs/soup

Writes `OUT/best.pth` with the validation score the training run would have recorded (the same
120 val images for the same seed), so `recognition.training.detector.train --out OUT --export
models/detector` exports it like any other run.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import torch

from recognition.pipeline.maskrcnn import DetectorConfig, build_detector
from recognition.training.detector.loop import evaluate, save_checkpoint
from recognition.training.detector.scenes import validation_subset

log = logging.getLogger("average_weights")


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", type=Path, required=True, help="the shared datasets folder")
    p.add_argument("--inputs", type=Path, nargs="+", required=True, help="best.pth files")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0, help="picks the val images, as in training")
    p.add_argument("--val-limit", type=int, default=120)
    p.add_argument("--threads", type=int, default=2)
    return p


def average(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of same-shaped state dicts (integer buffers are taken from the
    first)."""
    keys = states[0].keys()
    if any(s.keys() != keys for s in states[1:]):
        raise ValueError("checkpoints of different architectures cannot be averaged")
    out = {}
    for k in keys:
        first = states[0][k]
        if first.is_floating_point():
            out[k] = sum(s[k] for s in states) / len(states)
        else:
            out[k] = first.clone()
    return out


def main(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    checkpoints = [torch.load(p, map_location="cpu", weights_only=True) for p in args.inputs]
    configs = {c["config"] for c in checkpoints}
    if len(configs) != 1:
        raise ValueError(f"checkpoints were trained with different configs: {configs}")
    cfg = DetectorConfig.from_json(json.loads(configs.pop()))
    model = build_detector(cfg)
    model.load_state_dict(average([c["model"] for c in checkpoints]))
    val_set, ignore = validation_subset(args.data, args.seed, args.val_limit)
    metrics = evaluate(model, val_set, lambda i: ignore[i])
    log.info("average of %d checkpoints: val %s", len(checkpoints), metrics)
    args.out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(
        args.out / "best.pth", model=model.state_dict(),
        step=max(int(c["step"]) for c in checkpoints),
        config=json.dumps(cfg.to_json()), metrics=json.dumps(metrics),
    )  # fmt: skip


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main(get_args_parser().parse_args())
