"""Photographic degradations shared by detector and OCR training data.

Each effect is applied with its own probability so that a batch holds clean and hard samples.
"""

from __future__ import annotations

import random

import cv2
import numpy as np


def _motion_blur(img: np.ndarray, rng: random.Random) -> np.ndarray:
    k = rng.choice((3, 5, 7, 9))
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    kernel /= max(kernel.sum(), 1e-6)
    return cv2.filter2D(img, -1, kernel)


def _defocus(img: np.ndarray, rng: random.Random) -> np.ndarray:
    sigma = rng.uniform(0.6, 2.2)
    return cv2.GaussianBlur(img, (0, 0), sigma)


def _noise(img: np.ndarray, rng: random.Random) -> np.ndarray:
    sigma = rng.uniform(2, 14)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _jpeg(img: np.ndarray, rng: random.Random) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(15, 70)])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else img


def _glare(img: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = img.shape[:2]
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(0.1, 0.5) * max(h, w)
    yy, xx = np.mgrid[0:h, 0:w]
    spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(60, 170)
    return np.clip(img.astype(np.float32) + spot[..., None], 0, 255).astype(np.uint8)


def _shadow(img: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = img.shape[:2]
    pts = np.array(
        [[rng.uniform(-w, w), -1], [rng.uniform(0, 2 * w), -1], [rng.uniform(0, 2 * w), h + 1]],
        np.int32,
    )
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [pts], 1)
    factor = np.where(mask[..., None] == 1, rng.uniform(0.35, 0.75), 1.0)
    return (img.astype(np.float32) * factor).astype(np.uint8)


def _dirt(img: np.ndarray, rng: random.Random) -> np.ndarray:
    out = img.copy()
    h, w = img.shape[:2]
    for _ in range(rng.randint(3, 25)):
        c = (rng.randint(40, 110),) * 3
        r = max(1, int(rng.uniform(0.005, 0.03) * w))
        cv2.circle(out, (rng.randrange(w), rng.randrange(h)), r, c, -1)
    return cv2.addWeighted(img, 0.5, out, 0.5, 0)


def _night(img: np.ndarray, rng: random.Random) -> np.ndarray:
    gamma = rng.uniform(1.6, 2.8)
    dark = 255.0 * (img.astype(np.float32) / 255.0) ** gamma * rng.uniform(0.4, 0.8)
    tint = np.array([rng.uniform(0.9, 1.1), 1.0, rng.uniform(0.8, 1.2)], np.float32)
    return np.clip(dark * tint, 0, 255).astype(np.uint8)


def _low_res(img: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = img.shape[:2]
    f = rng.uniform(0.25, 0.6)
    small = cv2.resize(img, (max(2, int(w * f)), max(2, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _colour(img: np.ndarray, rng: random.Random) -> np.ndarray:
    alpha = rng.uniform(0.6, 1.3)
    beta = rng.uniform(-40, 40)
    return np.clip(img.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)


# (effect, probability). Plate-surface effects (dirt, shadow, glare) come before camera effects.
SURFACE_EFFECTS = ((_dirt, 0.2), (_shadow, 0.2), (_glare, 0.15))
CAMERA_EFFECTS = (
    (_colour, 0.5),
    (_night, 0.1),
    (_low_res, 0.25),
    (_motion_blur, 0.2),
    (_defocus, 0.25),
    (_noise, 0.3),
    (_jpeg, 0.3),
)


def privacy_blur(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """The plate as marketplaces and photo sites hide it: pixelated or blurred past reading.

    Open Images and seller photos often show such plates; they are still plates to find (a
    listing with a hidden plate is itself worth a moderator's look)."""
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        cells = rng.randint(4, 12)
        small = cv2.resize(img, (cells, max(1, round(cells * h / w))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.08, 0.2) * w)


def degrade_surface(img: np.ndarray, rng: random.Random, strength: float = 1.0) -> np.ndarray:
    """Dirt, shadow and glare on the plate itself (before it is warped into a scene)."""
    for effect, p in SURFACE_EFFECTS:
        if rng.random() < p * strength:
            img = effect(img, rng)
    return img


def degrade_camera(img: np.ndarray, rng: random.Random, strength: float = 1.0) -> np.ndarray:
    """Lighting, resolution, blur, noise and compression of the whole picture."""
    for effect, p in CAMERA_EFFECTS:
        if rng.random() < p * strength:
            img = effect(img, rng)
    return img
