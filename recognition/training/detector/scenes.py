"""Detector training data: the real scenes of ../shared/datasets (`recognition.datasets`) with
synthetic plates pasted in.

Real labels are axis-aligned boxes only, so an untouched real plate uses its box as its mask.
Synthetic plates are pasted over labelled plates (covering them, so the label becomes an exact
quadrilateral) and at new places under steep poses, which gives exact masks and corners.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from recognition.datasets import PARTIAL_LABEL_SETS, SceneRecord, load_records, read_rgb
from recognition.pipeline.maskrcnn import to_tensor
from recognition.pipeline.rectify import box_corners
from recognition.synth.compose import cover_box, paste, pose_corners, random_pose
from recognition.synth.degrade import degrade_camera, degrade_surface, privacy_blur
from recognition.synth.distractors import KINDS, distractor_box, draw_distractor
from recognition.synth.plates import render_plate

# Weighted toward Ukrainian formats, which have no real data at all.
PASTE_FORMATS = ("ua_2015",) * 4 + ("ua_2004",) * 2 + ("ua_square",) * 2 + ("eu", "us", "br")
MIN_BOX_PX = 4.0


def validation_subset(
    root: Path, seed: int, limit: int, split: str = "val"
) -> tuple[Subset, list[bool]]:
    """The val images scored each epoch (`limit` of them, drawn by `seed`; as they are, with
    no plate pasted), and for each whether its unmatched detections are ignored (partially
    labelled sets). `split="train"`: train images, to set the threshold on."""
    records = load_records(root, split)
    rng = random.Random(seed)
    idx = sorted(rng.sample(range(len(records)), min(limit, len(records))))
    subset = Subset(PlateSceneDataset(records, seed=seed, train=False), idx)
    return subset, [records[i].dataset in PARTIAL_LABEL_SETS for i in idx]


def box_mask(shape: tuple[int, int], box: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    x1, y1, x2, y2 = np.round(box).astype(int)
    mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = 1
    return mask


def _overlaps(quad: np.ndarray, boxes: list[np.ndarray], shape: tuple[int, int]) -> bool:
    x1, y1 = quad.min(0)
    x2, y2 = quad.max(0)
    if x1 < 0 or y1 < 0 or x2 >= shape[1] or y2 >= shape[0]:
        return True
    for b in boxes:
        if x1 < b[2] + 4 and b[0] - 4 < x2 and y1 < b[3] + 4 and b[1] - 4 < y2:
            return True
    return False


class PlateSceneDataset(Dataset):
    """Each item is (image tensor, Mask R-CNN target); the same index and epoch give the same
    sample, so a resumed run sees the data it would have seen."""

    def __init__(
        self,
        records: list[SceneRecord],
        seed: int,
        p_cover: float = 0.5,
        max_new: int = 2,
        max_yaw: float = 70.0,
        train: bool = True,
        new_width: tuple[float, float] = (0.04, 0.3),
        p_privacy: float = 0.0,
        log_share: float = 1.0,
        p_distractor: float = 0.0,
        paste_formats: tuple[str, ...] = PASTE_FORMATS,
        distractor_kinds: tuple[str, ...] = KINDS,
    ) -> None:
        self.records = records
        self.seed = seed
        self.p_cover = p_cover
        self.max_new = max_new
        self.max_yaw = max_yaw
        self.train = train
        # Width of a newly pasted plate as a share of the scene's width.
        self.new_width = new_width
        # Share of new plates sized log-uniformly (small ones as common as near ones); the rest
        # are uniform over the same range, which keeps large steep plates, whose exact masks
        # teach the mask head the outline at steep angles, common.
        self.log_share = log_share
        # Share of scenes given 1-2 unlabelled look-alikes (lights, badges, signs): background.
        self.p_distractor = p_distractor
        # Share of pasted plates hidden by pixelation or blur, as photo sites hide them.
        self.p_privacy = p_privacy
        # Formats of pasted plates, drawn uniformly from this sequence (repeats weight them).
        self.paste_formats = paste_formats
        self.distractor_kinds = distractor_kinds
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        rng = random.Random(hash((self.seed, self.epoch, index)))
        record = self.records[index]
        image, scale = read_rgb(record.path)
        boxes = [np.array(b, np.float32) * scale for b in record.boxes]
        if self.train and rng.random() < 0.5:
            image = np.ascontiguousarray(image[:, ::-1])
            w = image.shape[1]
            boxes = [np.array([w - b[2], b[1], w - b[0], b[3]], np.float32) for b in boxes]
        masks: list[np.ndarray] = []
        kept: list[np.ndarray] = []
        for box in boxes:
            if min(box[2] - box[0], box[3] - box[1]) < MIN_BOX_PX:
                continue
            if self.train and rng.random() < self.p_cover:
                plate = self._plate(rng)
                pasted = paste(image, plate, cover_box(tuple(box), plate.shape[:2], rng))
                masks.append(pasted.mask)
                kept.append(_quad_box(pasted.corners, image.shape[:2]))
            else:
                masks.append(box_mask(image.shape[:2], box))
                kept.append(box)
        if self.train:
            for _ in range(rng.randint(0, self.max_new)):
                self._paste_new(image, kept, masks, rng)
            # At the default of 0 no extra draw is made, so earlier runs' data is unchanged.
            if self.p_distractor > 0 and rng.random() < self.p_distractor:
                for _ in range(rng.randint(1, 2)):
                    self._draw_distractor(image, kept, rng)
            image = degrade_camera(image, rng, strength=0.6)
        target = _target(kept, masks, image.shape[:2])
        target["partial"] = torch.tensor(record.dataset in PARTIAL_LABEL_SETS)
        return to_tensor(image), target

    def _paste_new(
        self, image: np.ndarray, kept: list[np.ndarray], masks: list[np.ndarray], rng: random.Random
    ) -> None:
        h, w = image.shape[:2]
        plate = self._plate(rng)
        for _ in range(10):
            lo, hi = self.new_width
            # At the default share of 1 no extra draw is made, so earlier runs' data is unchanged.
            if self.log_share >= 1 or rng.random() < self.log_share:
                width = float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) * w
            else:
                width = rng.uniform(lo, hi) * w
            yaw, pitch, roll = random_pose(rng, self.max_yaw)
            centre = (rng.uniform(0.1, 0.9) * w, rng.uniform(0.2, 0.95) * h)
            quad = pose_corners(plate.shape[:2], centre, width, yaw, pitch, roll)
            if not _overlaps(quad, kept, (h, w)):
                pasted = paste(image, plate, quad)
                masks.append(pasted.mask)
                kept.append(_quad_box(pasted.corners, (h, w)))
                return

    def _draw_distractor(
        self, image: np.ndarray, kept: list[np.ndarray], rng: random.Random
    ) -> None:
        kind = rng.choice(self.distractor_kinds)
        for _ in range(5):
            box = distractor_box(kind, image.shape[:2], rng)
            if not _overlaps(box_corners(box), kept, image.shape[:2]):
                draw_distractor(image, box, kind, rng)
                return

    def _plate(self, rng: random.Random) -> np.ndarray:
        plate = degrade_surface(render_plate(rng.choice(self.paste_formats), rng).image, rng)
        return privacy_blur(plate, rng) if rng.random() < self.p_privacy else plate


def _quad_box(quad: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    x1, y1 = np.clip(quad.min(0), 0, None)
    x2, y2 = quad.max(0)
    return np.array([x1, y1, min(x2, shape[1] - 1), min(y2, shape[0] - 1)], np.float32)


def _target(
    boxes: list[np.ndarray], masks: list[np.ndarray], shape: tuple[int, int]
) -> dict[str, torch.Tensor]:
    if not boxes:
        return {
            "boxes": torch.zeros((0, 4), dtype=torch.float32),
            "labels": torch.zeros((0,), dtype=torch.int64),
            "masks": torch.zeros((0, *shape), dtype=torch.uint8),
        }
    return {
        "boxes": torch.from_numpy(np.stack(boxes)).float(),
        "labels": torch.ones(len(boxes), dtype=torch.int64),
        "masks": torch.from_numpy(np.stack(masks)),
    }


def collate(batch: list[tuple[torch.Tensor, dict[str, torch.Tensor]]]) -> tuple[list, list]:
    images, targets = zip(*batch, strict=True)
    return list(images), list(targets)
