"""OCR training crops: plates as the detector + rectifier hand them to the reader.

A rendered plate is seen by a simulated camera (yaw, pitch, resolution, blur), then straightened
back with slightly wrong corners, because the real rectifier works from a predicted mask and never
lands exactly on the plate's corners. Plates of several rows are split into their rows the same
way the reader splits them (`ocr_input.split_rows`), so that training and inference see the same
line images; each row is its own training line with its own text.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

from recognition.pipeline.ocr_input import LINE_H, LINE_W, split_lines, split_rows, to_line_input
from recognition.synth.degrade import degrade_camera, degrade_surface
from recognition.synth.plates import FORMATS, PlateImage, render_plate

# Training mix of synthetic formats: Ukrainian plates are the product's main market, then the
# neighbours' plates that the marketplace sees, then the openalpr sets' US and Brazilian plates.
FORMAT_WEIGHTS = {
    "ua_2015": 4, "ua_2004": 2, "ua_square": 2, "ua_1995": 1, "ua_1995_square": 1, "ua_moto": 1,
    "ua_trailer": 1, "ua_transit": 1, "ua_diplomatic": 1,
    "eu": 1, "pl": 1, "md": 1, "ro": 1, "sk": 1, "hu": 1, "uk": 1, "us": 2, "br": 2,
}  # fmt: skip


@dataclass(frozen=True)
class LineSample:
    image: np.ndarray  # RGB uint8, one text line, any size
    text: str
    format: str


def _background(h: int, w: int, rng: random.Random) -> np.ndarray:
    """Car body, bumper or plate holder around the plate."""
    base = np.array([rng.randint(0, 255) for _ in range(3)], np.float32)
    img = np.ones((h, w, 3), np.float32) * base
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(2, 25), (h, w, 1))
    if rng.random() < 0.3:  # a dark plate holder frame
        img[:] = rng.uniform(10, 60)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _camera_quad(w: float, h: float, yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Image corners of a w x h plate rotated by yaw/pitch/roll (degrees), seen by a pinhole."""
    f = 1.2 * max(w, h)
    pts = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    ry, rp, rr = (math.radians(a) for a in (yaw, pitch, roll))
    rot_y = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rot_x = np.array([[1, 0, 0], [0, math.cos(rp), -math.sin(rp)], [0, math.sin(rp), math.cos(rp)]])
    rot_z = np.array([[math.cos(rr), -math.sin(rr), 0], [math.sin(rr), math.cos(rr), 0], [0, 0, 1]])
    cam = pts @ (rot_z @ rot_x @ rot_y).T
    z = cam[:, 2] + 2.5 * f
    quad = np.stack([f * cam[:, 0] / z, f * cam[:, 1] / z], axis=1)
    return quad - quad.min(axis=0)


def view_and_rectify(
    plate: np.ndarray,
    rng: random.Random,
    *,
    yaw: float,
    pitch: float = 0.0,
    plate_px: int = 160,
    corner_noise: float = 0.03,
    camera: bool = True,
) -> np.ndarray:
    """See `plate` at an angle and `plate_px` wide, then straighten it with noisy corners."""
    ph, pw = plate.shape[:2]
    scale = plate_px / pw
    small_w, small_h = plate_px, max(8, int(round(ph * scale)))
    quad = _camera_quad(small_w, small_h, yaw, pitch, rng.uniform(-5, 5))
    margin = int(0.4 * max(small_w, small_h)) + 4
    quad = quad + margin
    cw = int(quad[:, 0].max()) + margin
    ch = int(quad[:, 1].max()) + margin
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    homography = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    scene = _background(ch, cw, rng)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.uint8), homography, (cw, ch))
    warped = cv2.warpPerspective(plate, homography, (cw, ch), flags=cv2.INTER_AREA)
    scene = np.where(mask[..., None] > 0, warped, scene)
    if camera:
        scene = degrade_camera(scene, rng, strength=0.4)
    # The rectifier's corners: off by a few percent, sometimes with extra padding.
    pad = rng.uniform(-0.02, 0.08)
    centre = quad.mean(axis=0)
    noisy = centre + (quad - centre) * (1 + pad)
    span = np.array([np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])])
    noisy = noisy + np.array(
        [
            [rng.gauss(0, corner_noise) * span[0], rng.gauss(0, corner_noise) * span[1]]
            for _ in range(4)
        ]
    )
    out_h = max(16, int(round(small_h * rng.uniform(0.8, 1.6))))
    out_w = int(round(out_h * pw / ph))
    dst = np.float32([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]])
    back = cv2.getPerspectiveTransform(noisy.astype(np.float32), dst)
    return cv2.warpPerspective(
        scene, back, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def seen_crop(
    fmt: str, rng: random.Random, yaw: float | None = None
) -> tuple[np.ndarray, PlateImage]:
    plate = render_plate(fmt, rng)
    # Downscale before the surface effects: the plates are rendered far larger than photos show.
    img = cv2.resize(
        plate.image,
        (plate.image.shape[1] // 2, plate.image.shape[0] // 2),
        interpolation=cv2.INTER_AREA,
    )
    img = degrade_surface(img, rng)
    if yaw is None:
        yaw = rng.choice((-1, 1)) * min(abs(rng.gauss(0, 25)), 65)
    pitch = rng.uniform(-20, 20)
    plate_px = int(math.exp(rng.uniform(math.log(100), math.log(360))))
    return view_and_rectify(img, rng, yaw=yaw, pitch=pitch, plate_px=plate_px), plate


def synth_plate_crop(
    fmt: str, rng: random.Random, *, yaw: float | None = None
) -> tuple[np.ndarray, str, tuple[str, ...]]:
    """A straightened synthetic crop of `fmt`: (RGB crop, text, lines)."""
    crop, plate = seen_crop(fmt, rng, yaw)
    return crop, plate.text, plate.lines


def synth_lines(
    rng: random.Random, fmt: str | None = None, weights: dict[str, float] | None = None
) -> list[LineSample]:
    """Line samples from one synthetic plate of `fmt`, or of a format drawn by `weights`
    (default FORMAT_WEIGHTS): one per printed row.

    A plate of several rows is cut where the reader cuts it (the rows its ink shows); when the
    ink does not show them, at the rendered layout's row boundaries.
    """
    if fmt is None:
        mix = weights or FORMAT_WEIGHTS
        fmt = rng.choices(list(mix), weights=list(mix.values()))[0]
    crop, plate = seen_crop(fmt, rng)
    if len(plate.lines) > 1:
        rows = split_rows(crop, rows=len(plate.lines), fractions=plate.row_fractions)
        return [LineSample(r, t, fmt) for r, t in zip(rows, plate.lines, strict=True)]
    return [LineSample(crop, plate.text, fmt)]


def jitter_real_crop(crop: np.ndarray, rng: random.Random, strength: float = 1.0) -> np.ndarray:
    """Residual misalignment and photo effects on a real plate crop."""
    h, w = crop.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    pad = rng.uniform(-0.04, 0.08) * strength
    dst = src + np.float32(
        [[-pad * w, -pad * h], [pad * w, -pad * h], [pad * w, pad * h], [-pad * w, pad * h]]
    )
    dst += np.float32(
        [[rng.gauss(0, 0.025 * strength) * w, rng.gauss(0, 0.04 * strength) * h] for _ in range(4)]
    )
    angle = math.radians(rng.uniform(-5, 5) * strength)
    centre = dst.mean(axis=0)
    rot = np.float32([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = (dst - centre) @ rot.T + centre
    m = cv2.getPerspectiveTransform(dst.astype(np.float32), src)
    out = cv2.warpPerspective(
        crop, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return degrade_camera(out, rng, strength=0.6 * strength)


__all__ = [
    "FORMATS",
    "LINE_H",
    "LINE_W",
    "LineSample",
    "jitter_real_crop",
    "split_lines",
    "split_rows",
    "synth_lines",
    "synth_plate_crop",
    "to_line_input",
    "view_and_rectify",
]
