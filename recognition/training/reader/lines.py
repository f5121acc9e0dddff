"""Training and validation lines for the plate reader: synthetic plates plus real openalpr crops."""

from __future__ import annotations

import logging
import random

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from recognition.datasets import CHARSET, RealCrop
from recognition.synth.crops import (
    jitter_real_crop,
    synth_lines,
    synth_plate_crop,
    to_line_input,
)

logger = logging.getLogger(__name__)


VAL_FORMATS = ("ua_2015", "ua_2004")


def synth_val_set(
    n: int, seed: int = 12345, formats: tuple[str, ...] = VAL_FORMATS
) -> list[tuple[np.ndarray, str]]:
    """A fixed synthetic Ukrainian set of one-row `formats`, in turn, for validation."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        fmt = formats[i % len(formats)]
        crop, text, _ = synth_plate_crop(fmt, rng, yaw=rng.uniform(-55, 55))
        out.append((crop, text))
    return out


class LineStream(IterableDataset):
    """Endless mix of synthetic lines and augmented real crops, as model-ready grey lines."""

    def __init__(
        self,
        real: list[RealCrop],
        real_fraction: float,
        seed: int,
        format_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__()
        self.real = real
        self.real_fraction = real_fraction if real else 0.0
        self.seed = seed
        self.format_weights = format_weights  # the synthetic mix; None: FORMAT_WEIGHTS

    def __iter__(self):  # type: ignore[no-untyped-def]
        info = get_worker_info()
        wid = info.id if info else 0
        rng = random.Random(self.seed * 1000 + wid)
        np.random.seed((self.seed * 1000 + wid) % 2**32)
        while True:
            if rng.random() < self.real_fraction:
                sample = rng.choice(self.real)
                img = jitter_real_crop(sample.image, rng)
                yield to_line_input(img), sample.text
            else:
                for line in synth_lines(rng, weights=self.format_weights):
                    yield to_line_input(line.image), line.text


def encode_batch(
    batch: list[tuple[np.ndarray, str]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images normalised as EasyOCR does ((x/255 - 0.5) / 0.5), CTC targets and their lengths."""
    images = np.stack([b[0] for b in batch]).astype(np.float32)
    x = torch.from_numpy(images).unsqueeze(1).div_(255.0).sub_(0.5).div_(0.5)
    targets = torch.tensor([CHARSET.index(ch) + 1 for _, t in batch for ch in t], dtype=torch.long)
    lengths = torch.tensor([len(t) for _, t in batch], dtype=torch.long)
    return x, targets, lengths


def lines_tensor(images: list[np.ndarray]) -> torch.Tensor:
    grey = np.stack([to_line_input(im) for im in images]).astype(np.float32)
    return torch.from_numpy(grey).unsqueeze(1).div_(255.0).sub_(0.5).div_(0.5)
