"""One training epoch and one validation pass for the detector (torchvision references style)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torchvision.ops import box_iou as box_iou_t
from tqdm import tqdm

from recognition.evaluation.metrics import DetectionCounts, match_detections

log = logging.getLogger(__name__)


def add_pseudo_labels(
    model: torch.nn.Module, images: list[torch.Tensor], targets: list[dict], threshold: float
) -> int:
    """Label confident detections on partially labelled images as plates.

    openalpr and Open Images photos show plates that nobody boxed. Trained as they are, those
    plates would teach the network that plates are background; once the network is decent, its
    own confident detections away from every labelled box are taken as the missing labels.
    """
    partial = [i for i, t in enumerate(targets) if bool(t.get("partial", False))]
    if not partial:
        return 0
    model.eval()
    with torch.no_grad():
        outputs = model([images[i] for i in partial])
    model.train()
    added = 0
    for i, out in zip(partial, outputs, strict=True):
        t = targets[i]
        keep = out["scores"] >= threshold
        boxes = out["boxes"][keep]
        if len(boxes) and len(t["boxes"]):
            far = box_iou_t(boxes, t["boxes"]).max(dim=1).values < 0.3
            boxes = boxes[far]
        if not len(boxes):
            continue
        h, w = images[i].shape[-2:]
        masks = torch.zeros((len(boxes), h, w), dtype=torch.uint8)
        for k, (x1, y1, x2, y2) in enumerate(boxes.round().int().tolist()):
            masks[k, max(y1, 0) : y2, max(x1, 0) : x2] = 1
        t["boxes"] = torch.cat([t["boxes"], boxes])
        t["labels"] = torch.cat([t["labels"], torch.ones(len(boxes), dtype=torch.int64)])
        t["masks"] = torch.cat([t["masks"], masks])
        added += len(boxes)
    return added


def train_one_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    loader: Iterable,
    epoch: int,
    start_step: int,
    on_step: Callable[[int], None],
    max_steps: int | None = None,
    pseudo_threshold: float | None = None,
) -> int:
    """Train until the loader is exhausted; returns the global step reached."""
    model.train()
    step = start_step
    bar = tqdm(loader, desc=f"epoch {epoch}", unit="batch", dynamic_ncols=True, mininterval=5)
    running: dict[str, float] = {}
    pseudo = 0
    for images, targets in bar:
        t0 = time.perf_counter()
        if pseudo_threshold is not None:
            pseudo += add_pseudo_labels(model, images, targets, pseudo_threshold)
        for t in targets:
            t.pop("partial", None)
        losses = model(images, targets)
        loss = sum(losses.values())
        if not math.isfinite(loss.item()):
            log.warning("non-finite loss %s at step %d; batch skipped", losses, step)
            optimizer.zero_grad(set_to_none=True)
            continue
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        scheduler.step()
        step += 1
        _show_progress(bar, running, losses, scheduler.get_last_lr()[0], t0, step, pseudo)
        on_step(step)
        if max_steps is not None and step >= max_steps:
            break
    return step


def _show_progress(
    bar: tqdm,
    running: dict[str, float],
    losses: dict[str, torch.Tensor],
    lr: float,
    t0: float,
    step: int,
    pseudo: int,
) -> None:
    """Smoothed losses on the progress bar, and in the log every 50 steps."""
    for k, v in losses.items():
        running[k] = 0.95 * running.get(k, v.item()) + 0.05 * v.item()
    bar.set_postfix(
        loss=f"{sum(running.values()):.3f}",
        lr=f"{lr:.2e}",
        s_per_batch=f"{time.perf_counter() - t0:.2f}",
    )
    if step % 50 == 0:
        log.info(
            "step %d %s pseudo-labels %d",
            step,
            {k: round(v, 4) for k, v in running.items()},
            pseudo,
        )


@torch.inference_mode()
def evaluate(
    model: torch.nn.Module, dataset, ignore_unmatched: Callable[[int], bool]
) -> dict[str, float]:
    """Precision, recall and F1 at IoU >= 0.5 over the dataset, best over score thresholds."""
    model.eval()
    all_scores: list[tuple[float, bool, bool]] = []
    n_gt = 0
    for i in tqdm(range(len(dataset)), desc="validate", unit="img", mininterval=5):
        image, target = dataset[i]
        target.pop("partial", None)
        out = model([image])[0]
        matched = match_detections(
            out["boxes"].numpy(), out["scores"].numpy(), target["boxes"].numpy()
        )
        n_gt += len(target["boxes"])
        ignore = ignore_unmatched(i)
        all_scores.extend((s, tp, ignore and not tp) for s, tp in matched)
    counts = DetectionCounts.from_scored(all_scores, n_gt)
    return counts.best_f1()


def save_checkpoint(path: Path, **state: object) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
