"""The reader's real training and validation crops in one file, for training on another machine.

An accelerator machine gets the working tree and little else (the datasets stay behind, and
what travels is capped), so `train --write-bundle F` packs the crops that `train` would load
from `--data` (and `--detected-crops` / `--detected-val`) into one compact file, and
`train --bundle F` trains from it instead:

    python -m recognition.training.reader.train --data ../shared/datasets \
        --detected-crops runs/detcrops/train --detected-val runs/detcrops/val \
        --write-bundle runs/gpu/crops.npz
    python -m recognition.training.reader.train --bundle runs/gpu/crops.npz --device cuda ...

Each crop is shrunk to at most twice the reader's input (the line is LINE_H x LINE_W; the
jitter's margins and perspective need some room round it) and stored as a JPEG. The file is
git-ignored output: it holds dataset images (`runs/`), and never `ua_parking_val`, which the
reader's loaders do not read.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from recognition.datasets import RealCrop
from recognition.pipeline.ocr_input import LINE_H, LINE_W

JPEG_QUALITY = 92
MAX_H, MAX_W = 2 * LINE_H, 2 * LINE_W


def _shrunk(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, MAX_H / h, MAX_W / w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _encode(image: np.ndarray) -> np.ndarray:
    ok, buf = cv2.imencode(
        ".jpg",
        cv2.cvtColor(_shrunk(image), cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
    )
    if not ok:
        raise ValueError("a crop could not be encoded")
    return buf.reshape(-1)


def write_bundle(path: Path, splits: dict[str, list[RealCrop]]) -> int:
    """Write each split's crops to `path` (.npz); returns the number of crops written."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, list[dict[str, str]]] = {}
    for split, crops in splits.items():
        meta[split] = []
        for i, crop in enumerate(crops):
            arrays[f"{split}/{i}"] = _encode(crop.image)
            meta[split].append({"text": crop.text, "source": crop.source, "region": crop.region})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    return sum(len(v) for v in meta.values())


def read_bundle(path: Path) -> dict[str, list[RealCrop]]:
    """The splits written by `write_bundle`, crops decoded back to RGB."""
    with np.load(path) as data:
        meta = json.loads(data["meta"].tobytes())
        out: dict[str, list[RealCrop]] = {}
        for split, rows in meta.items():
            out[split] = []
            for i, row in enumerate(rows):
                bgr = cv2.imdecode(data[f"{split}/{i}"], cv2.IMREAD_COLOR)
                if bgr is None:
                    raise ValueError(f"{path}: crop {split}/{i} does not decode")
                image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                out[split].append(RealCrop(image, row["text"], row["source"], row["region"]))
    return out
