"""The plate detector: torchvision's Mask R-CNN with a light backbone trained from scratch.

The architecture is described by `DetectorConfig`, which is saved in the weights manifest so that
the inference code always rebuilds exactly the network that was trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torchvision.models import mobilenet_v3_large, resnet18
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool


@dataclass(frozen=True)
class DetectorConfig:
    backbone: str = "mobilenet_v3_large"
    fpn_channels: int = 96
    # Input size: the shorter side is scaled to min_size unless the longer would pass max_size.
    min_size: int = 512
    max_size: int = 768
    # Plate anchors: wide one-line plates (about 2:1 to 6:1) and square two-line plates.
    # torchvision's aspect ratio is height / width.
    aspect_ratios: tuple[float, ...] = (0.18, 0.28, 0.45, 0.75)
    anchor_sizes: tuple[int, ...] = (16, 32, 64, 128, 256)
    rpn_pre_nms_train: int = 600
    rpn_post_nms_train: int = 300
    rpn_pre_nms_test: int = 300
    rpn_post_nms_test: int = 100
    box_batch_size_per_image: int = 128
    box_detections_per_img: int = 20
    mask_head_channels: int = 64
    box_head_dim: int = 256
    score_thresh: float = 0.05

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> DetectorConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("aspect_ratios", "anchor_sizes"):
            if key in known:
                known[key] = tuple(known[key])  # type: ignore[arg-type]
        return cls(**known)  # type: ignore[arg-type]


def _norm(channels: int) -> nn.Module:
    # GroupNorm: batches of 2-4 images are too small for BatchNorm statistics.
    return nn.GroupNorm(8 if channels % 8 == 0 else 1, channels)


def _backbone(cfg: DetectorConfig) -> BackboneWithFPN:
    if cfg.backbone == "mobilenet_v3_large":
        features = mobilenet_v3_large(weights=None, norm_layer=_norm).features
        stages = [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)]
        # Strides 8, 16 and 32 (the last block); stride 8 keeps 30 px wide plates visible.
        picks = [stages[1], stages[2], len(features) - 1]
        return_layers = {str(idx): str(n) for n, idx in enumerate(picks)}
        in_channels = [features[i].out_channels for i in picks]
        body: nn.Module = features
    elif cfg.backbone == "resnet18":
        body = resnet18(weights=None, norm_layer=_norm)
        return_layers = {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"}
        in_channels = [64, 128, 256, 512]
    else:
        raise ValueError(f"unknown backbone {cfg.backbone!r}")
    return BackboneWithFPN(
        body,
        return_layers,
        in_channels,
        cfg.fpn_channels,
        extra_blocks=LastLevelMaxPool(),
        norm_layer=_norm,
    )


def build_detector(cfg: DetectorConfig) -> MaskRCNN:
    """A two-class (background, plate) Mask R-CNN with random initial weights."""
    backbone = _backbone(cfg)
    n_levels = len(backbone.body.return_layers) + 1  # + the max-pool level
    sizes = cfg.anchor_sizes[-n_levels:] if len(cfg.anchor_sizes) >= n_levels else cfg.anchor_sizes
    anchors = AnchorGenerator(
        sizes=tuple((s,) for s in sizes), aspect_ratios=(cfg.aspect_ratios,) * n_levels
    )
    names = [str(i) for i in range(n_levels - 1)]
    mask_head = MaskRCNNHeads(cfg.fpn_channels, [cfg.mask_head_channels] * 2, 1, norm_layer=_norm)
    return MaskRCNN(
        backbone,
        num_classes=None,
        min_size=cfg.min_size,
        max_size=cfg.max_size,
        rpn_anchor_generator=anchors,
        rpn_pre_nms_top_n_train=cfg.rpn_pre_nms_train,
        rpn_post_nms_top_n_train=cfg.rpn_post_nms_train,
        rpn_pre_nms_top_n_test=cfg.rpn_pre_nms_test,
        rpn_post_nms_top_n_test=cfg.rpn_post_nms_test,
        box_batch_size_per_image=cfg.box_batch_size_per_image,
        box_detections_per_img=cfg.box_detections_per_img,
        box_score_thresh=cfg.score_thresh,
        box_roi_pool=MultiScaleRoIAlign(names, output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(cfg.fpn_channels * 7 * 7, cfg.box_head_dim),
        box_predictor=FastRCNNPredictor(cfg.box_head_dim, 2),
        mask_roi_pool=MultiScaleRoIAlign(names, output_size=14, sampling_ratio=2),
        mask_head=mask_head,
        mask_predictor=MaskRCNNPredictor(cfg.mask_head_channels, cfg.mask_head_channels, 2),
    )


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """RGB uint8 HxWx3 -> float CxHxW in [0, 1]."""
    array = np.ascontiguousarray(image)
    if not array.flags.writeable:  # decoded photos are read-only views; torch wants to own them
        array = array.copy()
    return torch.from_numpy(array).permute(2, 0, 1).float().div_(255.0)
