"""Put a flat plate into a scene under a 3-D pose, with its exact mask and corners.

A plate is a rectangle in 3-D rotated by yaw (about the vertical axis), pitch and a little roll,
seen through a pinhole camera. Its four projected corners define the homography that warps the
flat plate image into the scene, so mask and corners are exact by construction.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

Quad = np.ndarray  # float32 (4, 2): TL, TR, BR, BL


@dataclass(frozen=True)
class Pasted:
    corners: Quad  # where the plate's corners landed in the scene
    mask: np.ndarray  # uint8 HxW, 1 inside the plate


def project_corners(
    width: float, height: float, yaw_deg: float, pitch_deg: float, roll_deg: float = 0.0
) -> Quad:
    """Corners of a width x height plate after rotation, projected and centred on (0, 0)."""
    yaw, pitch, roll = (math.radians(a) for a in (yaw_deg, pitch_deg, roll_deg))
    pts = np.array(
        [[-width / 2, -height / 2, 0], [width / 2, -height / 2, 0],
         [width / 2, height / 2, 0], [-width / 2, height / 2, 0]], np.float64,
    )  # fmt: skip
    ry = np.array(
        [[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]]
    )
    rx = np.array(
        [[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]]
    )
    rz = np.array(
        [[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]]
    )
    rotated = pts @ (rz @ rx @ ry).T
    # A camera about 4 plate widths away: perspective is visible but not extreme.
    distance = 4.0 * width
    z = rotated[:, 2] + distance
    f = distance
    return (rotated[:, :2] * (f / z)[:, None]).astype(np.float32)


def warp_plate(
    plate: np.ndarray, corners: Quad, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a flat plate so its corners land on `corners`; returns (image, coverage 0..1)."""
    h, w = plate.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    size = (shape[1], shape[0])
    warped = cv2.warpPerspective(
        plate, matrix, size, flags=cv2.INTER_AREA if w > 200 else cv2.INTER_LINEAR
    )
    alpha = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    return warped, alpha


def paste(scene: np.ndarray, plate: np.ndarray, corners: Quad) -> Pasted:
    """Composite `plate` into `scene` in place; the mask is the exact plate polygon."""
    warped, alpha = warp_plate(plate, corners, scene.shape[:2])
    a = alpha[..., None]
    scene[:] = (warped.astype(np.float32) * a + scene.astype(np.float32) * (1 - a)).astype(np.uint8)
    mask = np.zeros(scene.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(corners).astype(np.int32)], 1)
    return Pasted(corners.astype(np.float32), mask)


def pose_corners(
    plate_shape: tuple[int, int],
    centre: tuple[float, float],
    width_px: float,
    yaw: float,
    pitch: float,
    roll: float = 0.0,
) -> Quad:
    """Scene corners for a plate whose frontal width would be `width_px`, centred at `centre`."""
    h, w = plate_shape
    quad = project_corners(width_px, width_px * h / w, yaw, pitch, roll)
    return quad + np.array(centre, np.float32)


def random_pose(
    rng: random.Random, max_yaw: float = 60.0, max_pitch: float = 30.0
) -> tuple[float, float, float]:
    # Most listing photos are near-frontal; a third are steep, up to the limits.
    yaw = rng.uniform(0, max_yaw) if rng.random() < 0.6 else rng.uniform(0, max_yaw / 3)
    pitch = rng.uniform(-max_pitch, max_pitch) * (0.4 if rng.random() < 0.6 else 1.0)
    return yaw * rng.choice((-1, 1)), pitch, rng.uniform(-6, 6)


def cover_box(
    box: tuple[float, float, float, float], plate_shape: tuple[int, int], rng: random.Random
) -> Quad:
    """Corners for a plate that covers a labelled box, with a mild pose, so the original plate
    disappears under the synthetic one."""
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    grow = rng.uniform(1.08, 1.25)
    centre = ((x1 + x2) / 2, (y1 + y2) / 2)
    yaw, pitch = rng.uniform(-25, 25), rng.uniform(-10, 10)
    quad = project_corners(1.0, plate_shape[0] / plate_shape[1], yaw, pitch, rng.uniform(-3, 3))
    qw = quad[:, 0].max() - quad[:, 0].min()
    qh = quad[:, 1].max() - quad[:, 1].min()
    # Stretch so the warped plate's bounding box is the grown label box: it covers the original.
    scale = np.array([bw * grow / qw, bh * grow / qh], np.float32)
    return quad * scale + np.array(centre, np.float32)
