"""Training and validation lines for the plate reader: synthetic plates plus real openalpr crops."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from recognition.synth.crops import (
    jitter_real_crop,
    synth_lines,
    synth_plate_crop,
    to_line_input,
)

logger = logging.getLogger(__name__)

CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CROP_SETS = ("openalpr_us_crops", "openalpr_br_crops")
PHOTO_SET = "openalpr_endtoend"
# Real boxes are loose and axis-aligned; cut them with this margin so jitter can move inside.
BOX_MARGIN = 0.08


@dataclass(frozen=True)
class RealCrop:
    image: np.ndarray  # RGB uint8
    text: str
    source: str  # dataset folder name
    region: str  # us, br, eu


def _read_rgb(path: Path) -> np.ndarray | None:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if img is None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _clean_text(text: str | None) -> str | None:
    if not text:
        return None
    text = "".join(ch for ch in text.upper() if ch.isalnum())
    return text if text and all(ch in CHARSET for ch in text) else None


def cut_box(img: np.ndarray, box: list[float], margin: float) -> np.ndarray:
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    h, w = img.shape[:2]
    xa, ya = max(0, int(x1 - mx)), max(0, int(y1 - my))
    xb, yb = min(w, int(x2 + mx + 1)), min(h, int(y2 + my + 1))
    return img[ya:yb, xa:xb]


def load_real_crops(data_dir: Path, split: str, margin: float = BOX_MARGIN) -> list[RealCrop]:
    """Real plate crops of one split: crop sets as they are, plates cut from end-to-end photos."""
    out: list[RealCrop] = []
    for name in (*CROP_SETS, PHOTO_SET):
        folder = data_dir / name
        labels = folder / "labels.jsonl"
        if not labels.exists():
            logger.warning("missing %s, skipped", labels)
            continue
        for line in labels.read_text().splitlines():
            row = json.loads(line)
            if row["split"] != split:
                continue
            region = (row.get("region") or ("br" if "br" in name else "us")).split("-")[0]
            plates = [p for p in row["plates"] if _clean_text(p.get("text")) and p.get("box")]
            if not plates:
                continue
            img = _read_rgb(folder / row["image"])
            if img is None:
                continue
            for plate in plates:
                crop = img if row.get("crop") else cut_box(img, plate["box"], margin)
                if crop.shape[0] >= 6 and crop.shape[1] >= 12:
                    out.append(RealCrop(crop, _clean_text(plate["text"]) or "", name, region))
    return out


def load_detected_crops(folder: Path) -> list[RealCrop]:
    """Crops written by `recognition.training.det_crops` (the detector's own crop geometry)."""
    labels = folder / "labels.jsonl"
    if not labels.exists():
        raise FileNotFoundError(f"{labels} missing: run python -m recognition.training.det_crops")
    out: list[RealCrop] = []
    for line in labels.read_text().splitlines():
        row = json.loads(line)
        img = _read_rgb(folder / row["image"])
        text = _clean_text(row["text"])
        if img is not None and text:
            out.append(RealCrop(img, text, row["source"], row["region"]))
    return out


def synth_val_set(n: int, seed: int = 12345) -> list[tuple[np.ndarray, str]]:
    """A fixed synthetic Ukrainian set (one-line formats) for validation during training."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        fmt = ("ua_2015", "ua_2004")[i % 2]
        crop, text, _ = synth_plate_crop(fmt, rng, yaw=rng.uniform(-55, 55))
        out.append((crop, text))
    return out


class LineStream(IterableDataset):
    """Endless mix of synthetic lines and augmented real crops, as model-ready grey lines."""

    def __init__(self, real: list[RealCrop], real_fraction: float, seed: int) -> None:
        super().__init__()
        self.real = real
        self.real_fraction = real_fraction if real else 0.0
        self.seed = seed

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
                for line in synth_lines(rng):
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
