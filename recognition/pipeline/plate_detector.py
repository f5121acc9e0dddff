"""Batch plate detection with the trained Mask R-CNN: boxes, masks, corners and scores."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from recognition.pipeline.maskrcnn import DetectorConfig, build_detector, to_tensor
from recognition.pipeline.rectify import corners_from_mask
from recognition.pipeline.weights import read_verified

log = logging.getLogger(__name__)

# Detections below this score are dropped: chosen on the validation PR curve (see the model card).
DETECTION_THRESHOLD = 0.5
# Photos are shrunk to this longer side before detection; the network works at 768 anyway and
# full-size masks of a 12-megapixel photo would cost more than the network itself.
DETECT_MAX_SIDE = 1024
# A lower-scoring box that lies this much inside a better one is a part of the same plate
# (one line of a two-line plate, say), which per-class NMS at IoU 0.5 lets through.
NESTED_SHARE = 0.7


@dataclass(frozen=True)
class PlateDetection:
    box: tuple[float, float, float, float]
    mask: np.ndarray  # float32 HxW probabilities, on the network's input (see `scale`)
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL in original photo pixels
    score: float
    corners_from_mask: bool
    scale: float  # mask pixels per photo pixel (a zoomed-out look's canvas is offset too)


class PlateDetector:
    def __init__(self, model: torch.nn.Module, config: DetectorConfig, version: str) -> None:
        # channels-last convolutions: 15 % less CPU a photo for the same boxes (to 0.003 px).
        self.model = model.eval().to(memory_format=torch.channels_last)
        self.config = config
        self.version = version
        self.threshold = DETECTION_THRESHOLD
        # The weights' manifest as loaded: the engine reads the reader's check fitted for these
        # weights from it (`ReaderCheck.from_manifest`); the detector itself never applies it.
        self.manifest: dict[str, Any] = {}

    @classmethod
    def load(cls, folder: Path) -> PlateDetector:
        weights, manifest = read_verified(folder)
        config = DetectorConfig.from_json(manifest["config"])
        model = build_detector(config)
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        detector = cls(model, config, manifest["version"])
        detector.threshold = float(manifest.get("threshold", DETECTION_THRESHOLD))
        detector.manifest = dict(manifest)
        return detector

    @torch.inference_mode()
    def detect(
        self,
        images: Sequence[np.ndarray],
        threshold: float | None = None,
        *,
        equalise: bool = False,
        zoom_out: float = 1.0,
    ) -> list[list[PlateDetection]]:
        """Plates on each RGB uint8 image, best first, scoring at least `threshold` (default:
        the manifest's operating threshold; the engine asks for its reader check's candidates).
        `equalise`: the network sees each image with its local contrast stretched
        (`equalised`); `zoom_out` above 1: it sees each image that many times smaller on a plain
        canvas (`zoomed_out`). The detections' coordinates are the photo's either way."""
        threshold = self.threshold if threshold is None else threshold
        views = [
            zoomed_out(im, zoom_out) if zoom_out > 1.0 else DetectorView.shrunk(im) for im in images
        ]
        outs = self._run([view.image for view in views], equalise=equalise)
        return [
            detections_from_output(out, view.scale, threshold, view.offset, photo_size(im))
            for out, view, im in zip(outs, views, images, strict=True)
        ]

    @torch.inference_mode()
    def outputs(
        self, images: Sequence[np.ndarray], *, equalise: bool = False
    ) -> list[tuple[dict[str, torch.Tensor], float]]:
        """The network's raw output on each image shrunk as `detect` shrinks it (boxes in the
        shrunk image's pixels), with the shrink factor: for benchmarks that need every score."""
        views = [DetectorView.shrunk(im) for im in images]
        outs = self._run([view.image for view in views], equalise=equalise)
        return [(out, view.scale) for out, view in zip(outs, views, strict=True)]

    @torch.inference_mode()
    def _run(
        self, images: Sequence[np.ndarray], *, equalise: bool = False
    ) -> list[dict[str, torch.Tensor]]:
        """The network's output on images already sized for it."""
        if not images:
            return []
        if equalise:
            images = [equalised(im) for im in images]
        return list(self.model([to_tensor(im) for im in images]))


# The network's own resize takes a photo's longer side to its input size: a side of a pixel or
# two (a 1500 x 2 strip is a valid JPEG) then rounds to none and the network raises. Such a
# photo is shown on a canvas at least this many pixels each way, the photo at its top left.
DETECT_MIN_SIDE = 32


def shrink_for_detection(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The image the network is given (at most DETECT_MAX_SIDE, at least DETECT_MIN_SIDE each
    way), and its scale to the photo. Its top-left corner is the photo's."""
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    if scale != 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return _at_least(image, DETECT_MIN_SIDE), scale


def _at_least(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    if h >= side and w >= side:
        return image
    canvas = np.empty((max(h, side), max(w, side), *image.shape[2:]), image.dtype)
    canvas[:] = image.reshape(-1, *image.shape[2:]).mean(axis=0).round().astype(image.dtype)
    canvas[:h, :w] = image
    return canvas


@dataclass(frozen=True)
class DetectorView:
    """The image the network is given for a photo, and where the photo lies on it."""

    image: np.ndarray  # at most DETECT_MAX_SIDE
    scale: float  # its pixels per photo pixel
    offset: tuple[float, float] = (0.0, 0.0)  # the photo's top-left corner on it (x, y)

    @classmethod
    def shrunk(cls, image: np.ndarray) -> DetectorView:
        """The photo itself, shrunk for detection (`shrink_for_detection`)."""
        return cls(*shrink_for_detection(image))


def zoomed_out(image: np.ndarray, factor: float) -> DetectorView:
    """`image` shrunk for detection and then `factor` times more, centred on a canvas of the
    shrunk image's size filled with its mean colour: a plate filling most of the photo fills a
    `factor`-th as much of what the network sees."""
    shrunk, scale = shrink_for_detection(image)
    h, w = shrunk.shape[:2]
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    canvas = np.empty_like(shrunk)
    canvas[:] = shrunk.reshape(-1, shrunk.shape[2]).mean(axis=0).round().astype(np.uint8)
    left, top = (w - size[0]) // 2, (h - size[1]) // 2
    canvas[top : top + size[1], left : left + size[0]] = cv2.resize(
        shrunk, size, interpolation=cv2.INTER_AREA
    )
    return DetectorView(canvas, scale * size[0] / w, (float(left), float(top)))


# Local contrast for the engine's second look (`equalised`): CLAHE's clip limit and tile grid.
EQUALISE_CLIP = 2.0
EQUALISE_TILES = 8


def equalised(image: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) with its lightness equalised tile by tile (CLAHE), colours kept.

    A plate in shadow or on a dull, dark photo differs from its surround by a few grey levels;
    stretched locally it shows the contrast the network learnt plates by. Run on the image shrunk
    for detection: on a 12-megapixel photo it would take a quarter of a second.
    """
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(EQUALISE_CLIP, (EQUALISE_TILES, EQUALISE_TILES))
    lab[:, :, 0] = clahe.apply(np.ascontiguousarray(lab[:, :, 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def inside_share(box: np.ndarray, other: np.ndarray) -> float:
    """The share of `box`'s area that lies inside `other`."""
    w = min(box[2], other[2]) - max(box[0], other[0])
    h = min(box[3], other[3]) - max(box[1], other[1])
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-6)
    return float(max(w, 0) * max(h, 0) / area)


def photo_size(image: np.ndarray) -> tuple[float, float]:
    """The photo's (width, height) in pixels: what its detections are kept within."""
    return float(image.shape[1]), float(image.shape[0])


def detections_from_output(
    out: dict[str, torch.Tensor],
    scale: float,
    threshold: float,
    offset: tuple[float, float] = (0.0, 0.0),
    within: tuple[float, float] | None = None,
) -> list[PlateDetection]:
    """The detections scoring at least `threshold`, nested parts dropped, in photo pixels: the
    network's pixels less `offset` (the photo's top-left on its input), over `scale`.

    `within`: the photo's (width, height). The network's input can hold more than the photo (the
    canvas round a zoomed-out or thin photo): a detection on the canvas alone is none of the
    photo's plates. One across the photo's edge keeps its outline past it, so that the plate is
    cut in its proportions; the engine reports the part on the photo (`engine.on_photo`)."""
    found: list[PlateDetection] = []
    scores = out["scores"].numpy()
    boxes = out["boxes"].numpy()
    shift = np.asarray(offset, np.float32)
    kept: list[np.ndarray] = []
    for i in np.where(scores >= threshold)[0]:  # torchvision returns them best first
        box = boxes[i]
        if any(inside_share(box, better) >= NESTED_SHARE for better in kept):
            continue
        x1, y1, x2, y2 = (box.astype(np.float64).reshape(2, 2) - shift).reshape(4) / scale
        if within is not None and not (x1 < within[0] and x2 > 0 and y1 < within[1] and y2 > 0):
            continue
        kept.append(box)
        mask = out["masks"][i, 0].numpy()
        corners, from_mask = corners_from_mask(mask, box)
        found.append(
            PlateDetection(
                box=(float(x1), float(y1), float(x2), float(y2)),
                mask=mask,
                corners=(corners - shift) / scale,
                score=float(scores[i]),
                corners_from_mask=from_mask,
                scale=scale,
            )
        )
    return found
