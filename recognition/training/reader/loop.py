"""One epoch of CTC training and the validation scores of the plate reader."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from recognition.evaluation.metrics import edit_distance, score_key
from recognition.training.reader.lines import CHARSET, encode_batch, lines_tensor

logger = logging.getLogger(__name__)


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def greedy_decode(logits: torch.Tensor) -> list[str]:
    """Best path: collapse repeats, drop blanks (index 0)."""
    best = logits.argmax(-1).cpu().numpy()
    out = []
    for row in best:
        chars, prev = [], 0
        for idx in row:
            if idx != prev and idx != 0:
                chars.append(CHARSET[idx - 1])
            prev = idx
        out.append("".join(chars))
    return out


class Schedule:
    """Warm-up then cosine decay over whichever runs out first: the steps or the time budget.

    The machine is shared, so a step-count schedule alone could outlive the session; progress is
    the larger of the step fraction and the elapsed-time fraction.
    """

    def __init__(
        self, peak_lr: float, total_steps: int, budget_sec: float, warmup: float = 0.04
    ) -> None:
        self.peak_lr, self.total_steps, self.budget_sec, self.warmup = (
            peak_lr,
            total_steps,
            budget_sec,
            warmup,
        )
        self.step_count, self.elapsed = 0, 0.0

    @property
    def progress(self) -> float:
        p = self.step_count / self.total_steps
        if self.budget_sec > 0:
            p = max(p, self.elapsed / self.budget_sec)
        return min(p, 1.0)

    def lr(self) -> float:
        p = self.progress
        if p < self.warmup:
            return self.peak_lr * (0.05 + 0.95 * p / self.warmup)
        q = (p - self.warmup) / (1 - self.warmup)
        return self.peak_lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * q)))

    def state_dict(self) -> dict[str, float]:
        return {"step_count": self.step_count, "elapsed": self.elapsed}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.step_count, self.elapsed = int(state["step_count"]), float(state["elapsed"])


def train_one_epoch(
    model: nn.Module,
    batches: Iterator[list[tuple[np.ndarray, str]]],
    optimizer: torch.optim.Optimizer,
    schedule: Schedule,
    steps: int,
    epoch: int,
    clip: float = 5.0,
) -> dict[str, float]:
    model.train()
    device = _device_of(model)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    total, seen, t0 = 0.0, 0, time.perf_counter()
    bar = tqdm(range(steps), desc=f"epoch {epoch}", mininterval=60, leave=False)
    for _ in bar:
        if schedule.progress >= 1.0:
            break
        step_start = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = schedule.lr()
        x, targets, lengths = (t.to(device) for t in encode_batch(next(batches)))
        logits = model(x)  # (B, T, C)
        log_probs = logits.log_softmax(2).permute(1, 0, 2)
        input_lengths = torch.full(
            (x.shape[0],), log_probs.shape[0], dtype=torch.long, device=device
        )
        loss = ctc(log_probs, targets, input_lengths, lengths)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        schedule.step_count += 1
        schedule.elapsed += time.perf_counter() - step_start
        if math.isfinite(loss.item()):
            total += loss.item()
            seen += 1
        bar.set_postfix(
            loss=f"{total / max(seen, 1):.3f}", lr=f"{schedule.lr():.2e}", refresh=False
        )
    return {"loss": total / max(seen, 1), "sec": time.perf_counter() - t0, "steps": float(seen)}


@torch.no_grad()
def read_lines(model: nn.Module, images: list[np.ndarray], batch_size: int = 128) -> list[str]:
    model.eval()
    device = _device_of(model)
    out: list[str] = []
    for i in range(0, len(images), batch_size):
        out += greedy_decode(model(lines_tensor(images[i : i + batch_size]).to(device)))
    return out


def accuracy(preds: list[str], truths: list[str]) -> dict[str, float]:
    keys = [(score_key(p), score_key(t)) for p, t in zip(preds, truths, strict=True)]
    exact = sum(p == t for p, t in keys)
    errors = sum(edit_distance(p, t) for p, t in keys)
    chars = sum(len(t) for _, t in keys)
    n = max(len(keys), 1)
    return {"exact": exact / n, "cer": errors / max(chars, 1), "n": float(len(keys))}
