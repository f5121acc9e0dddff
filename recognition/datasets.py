"""The labelled sets of ../shared/datasets, as training, evaluation and synth read them.

Scene photos with their plate boxes (detector sets) and plate crops with their texts (reader sets).
Only loading lives here: the synthetic training data built on top is in `recognition.training`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# The reader's alphabet: a label with any other character is not used.
CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DETECTION_SETS = (
    "openalpr_endtoend",
    "openimages_plates",
    "romanian_dashcam",
    "polish_roboflow_pd",
)
# Sets whose images hold plates nobody boxed: their unmatched detections are ignored in scoring.
PARTIAL_LABEL_SETS = frozenset({"openalpr_endtoend", "openimages_plates"})
MAX_SIDE = 864  # scenes are shrunk to this on load; the model's own transform rescales further
CROP_SETS = ("openalpr_us_crops", "openalpr_br_crops")
PHOTO_SET = "openalpr_endtoend"
# Real boxes are loose and axis-aligned; cut them with this margin so jitter can move inside.
BOX_MARGIN = 0.08


@dataclass(frozen=True)
class SceneRecord:
    path: Path
    dataset: str
    boxes: tuple[tuple[float, float, float, float], ...]
    texts: tuple[str | None, ...]
    region: str | None = None  # the label's `region` (br, eu, us-<state>), where it has one


def label_rows(root: Path, split: str, sets: tuple[str, ...]) -> Iterator[tuple[str, dict]]:
    """(set name, label row) for every row of `split` in the sets' labels.jsonl (missing sets
    are skipped)."""
    for name in sets:
        labels = root / name / "labels.jsonl"
        if not labels.exists():
            continue
        for line in labels.read_text().splitlines():
            row = json.loads(line)
            if row.get("split") == split:
                yield name, row


def load_records(
    root: Path, split: str, sets: tuple[str, ...] = DETECTION_SETS
) -> list[SceneRecord]:
    records: list[SceneRecord] = []
    for name, row in label_rows(root, split, sets):
        if row.get("crop"):
            continue
        plates = [p for p in row["plates"] if p.get("box")]
        records.append(
            SceneRecord(
                path=root / name / row["image"],
                dataset=name,
                boxes=tuple(tuple(p["box"]) for p in plates),
                texts=tuple(p.get("text") for p in plates),
                region=row.get("region"),
            )
        )
    return records


def read_rgb(path: Path, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float]:
    """Decode an image as RGB and shrink it to `max_side`; returns (image, scale applied)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot decode {path}")
    h, w = bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), scale


@dataclass(frozen=True)
class RealCrop:
    image: np.ndarray  # RGB uint8
    text: str
    source: str  # dataset folder name
    region: str  # us, br, eu


def read_crop_rgb(path: Path) -> np.ndarray | None:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if img is None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def clean_text(text: str | None) -> str | None:
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
            plates = [p for p in row["plates"] if clean_text(p.get("text")) and p.get("box")]
            if not plates:
                continue
            img = read_crop_rgb(folder / row["image"])
            if img is None:
                continue
            for plate in plates:
                crop = img if row.get("crop") else cut_box(img, plate["box"], margin)
                if crop.shape[0] >= 6 and crop.shape[1] >= 12:
                    out.append(RealCrop(crop, clean_text(plate["text"]) or "", name, region))
    return out


def plate_texts(
    root: Path, split: str, sets: tuple[str, ...] = (*CROP_SETS, PHOTO_SET)
) -> set[str]:
    """The cleaned text of every labelled plate of one split of `sets` (labels only)."""
    return {
        t
        for _, row in label_rows(root, split, sets)
        for p in row["plates"]
        if (t := clean_text(p.get("text")))
    }


def load_detected_crops(folder: Path) -> list[RealCrop]:
    """Crops written by `recognition.training.reader.detected_crops` (the detector's own crop
    geometry)."""
    labels = folder / "labels.jsonl"
    if not labels.exists():
        raise FileNotFoundError(
            f"{labels} missing: run python -m recognition.training.reader.detected_crops"
        )
    out: list[RealCrop] = []
    for line in labels.read_text().splitlines():
        row = json.loads(line)
        img = read_crop_rgb(folder / row["image"])
        text = clean_text(row["text"])
        if img is not None and text:
            out.append(RealCrop(img, text, row["source"], row["region"]))
    return out
