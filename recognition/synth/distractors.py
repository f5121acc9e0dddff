"""Things that are not plates but that the detector takes for plates, drawn into training scenes
without a label so that they are learned as background.

The false positives on the real val photos are of a few kinds (checked on overlays): strings of
festive lights and pairs of tail lights in night dash-cam frames, chrome badges and lettered
emblems on cars, and shop signs. Plates are upper-case, dark on light, one or two lines in a
bordered rectangle; the signs drawn here are mixed-case words, so that they never look like a
plate format the renderer makes.

From round 9 on two glowing kinds join them (overlays of the round-6 detector's false positives
on the night dash-cam val frames: single lit lamp blocks of cars, brake lights and fog lamps, and
lit shop lettering on dark facades, most scored above 0.95).
"""

from __future__ import annotations

import random
import string

import cv2
import numpy as np
from PIL import Image, ImageDraw

from recognition.synth.plates import _font, available_fonts

KINDS = ("light_string", "lamp_pair", "emblem", "sign")
GLOW_KINDS = ("lamp_block", "lit_sign")
ALL_KINDS = KINDS + GLOW_KINDS
_BULB_COLOURS = ((255, 60, 60), (80, 255, 80), (90, 150, 255))
_VOWELS = "aeiouy"
_CONSONANTS = "".join(c for c in string.ascii_lowercase if c not in _VOWELS)


def _word(rng: random.Random) -> str:
    syllables = [rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 5))]
    word = "".join(syllables) + (rng.choice(_CONSONANTS) if rng.random() < 0.5 else "")
    return word.capitalize() if rng.random() < 0.7 else word


def _add_glow(scene: np.ndarray, light: np.ndarray, sigma: float) -> None:
    """Adds `light` (float, HxWx3, 0-255) and its bloom to `scene` in place."""
    bloom = cv2.GaussianBlur(light, (0, 0), sigma)
    out = scene.astype(np.float32) + light + 1.5 * bloom
    scene[:] = np.clip(out, 0, 255).astype(np.uint8)


def light_string(scene: np.ndarray, box: np.ndarray, rng: random.Random) -> None:
    """A sagging string of small bright bulbs across `box` (festive lights over a street)."""
    x1, y1, x2, y2 = box
    light = np.zeros(scene.shape, np.float32)
    n = rng.randint(12, 40)
    sag = rng.uniform(0.2, 1.0) * (y2 - y1)
    warm = rng.random() < 0.6
    for i in range(n):
        t = (i + rng.uniform(-0.3, 0.3)) / max(n - 1, 1)
        x = x1 + t * (x2 - x1)
        y = y1 + sag * 4 * t * (1 - t) + rng.uniform(-0.1, 0.1) * (y2 - y1)
        colour = (255, 220, 150) if warm else rng.choice(_BULB_COLOURS)
        r = max(1, int(rng.uniform(0.01, 0.03) * (x2 - x1)))
        cv2.circle(light, (int(x), int(y)), r, colour, -1)
    _add_glow(scene, light * rng.uniform(0.6, 1.0), sigma=rng.uniform(1.5, 4.0))


def lamp_pair(scene: np.ndarray, box: np.ndarray, rng: random.Random) -> None:
    """Two bright lamps of a car, red tail lights or white headlights, with their bloom."""
    x1, y1, x2, y2 = box
    light = np.zeros(scene.shape, np.float32)
    colour = (255, 40, 60) if rng.random() < 0.6 else (255, 245, 230)
    ry = max(2, int((y2 - y1) / 2))
    rx = max(2, int(ry * rng.uniform(1.0, 2.2)))
    cy = int((y1 + y2) / 2)
    for cx in (int(x1 + rx), int(x2 - rx)):
        cv2.ellipse(light, (cx, cy), (rx, ry), 0, 0, 360, colour, -1)
        core = (max(1, rx // 2), max(1, ry // 2))
        cv2.ellipse(light, (cx, cy), core, 0, 0, 360, (255, 255, 255), -1)
    _add_glow(scene, light * rng.uniform(0.5, 1.0), sigma=max(2.0, ry * rng.uniform(0.6, 1.5)))


def lamp_block(scene: np.ndarray, box: np.ndarray, rng: random.Random) -> None:
    """One lit lamp of a car (a brake light, a fog lamp): a glowing rounded block, at times
    split into brighter segments, with its bloom."""
    x1, y1, x2, y2 = np.round(box).astype(int)
    light = np.zeros(scene.shape, np.float32)
    colour = rng.choice(((255, 40, 60), (255, 90, 150), (255, 245, 230), (255, 170, 40)))
    radius = max(1, int((y2 - y1) * rng.uniform(0.1, 0.4)))
    body = np.zeros(scene.shape[:2], np.uint8)
    cv2.rectangle(body, (x1 + radius, y1), (x2 - radius, y2), 1, -1)
    cv2.rectangle(body, (x1, y1 + radius), (x2, y2 - radius), 1, -1)
    for cx, cy in ((x1 + radius, y1 + radius), (x2 - radius, y1 + radius),
                   (x1 + radius, y2 - radius), (x2 - radius, y2 - radius)):  # fmt: skip
        cv2.circle(body, (cx, cy), radius, 1, -1)
    light[body == 1] = np.array(colour, np.float32) * rng.uniform(0.5, 0.9)
    segments = rng.choice((0, 2, 3, 4))
    for k in range(segments):  # brighter cores, side by side or stacked
        if (x2 - x1) > 2 * (y2 - y1) or rng.random() < 0.5:
            sx = x1 + (x2 - x1) * (k + 0.15) / segments
            seg = (
                int(sx),
                int(y1 + (y2 - y1) * 0.2),
                int(sx + (x2 - x1) * 0.7 / segments),
                int(y2 - (y2 - y1) * 0.2),
            )
        else:
            sy = y1 + (y2 - y1) * (k + 0.15) / segments
            seg = (
                int(x1 + (x2 - x1) * 0.15),
                int(sy),
                int(x2 - (x2 - x1) * 0.15),
                int(sy + (y2 - y1) * 0.7 / segments),
            )
        cv2.rectangle(light, seg[:2], seg[2:], (255, 255, 255), -1)
    sigma = max(2.0, (y2 - y1) * rng.uniform(0.15, 0.6))
    _add_glow(scene, light * rng.uniform(0.6, 1.0), sigma=sigma)


def lit_sign(scene: np.ndarray, box: np.ndarray, rng: random.Random) -> None:
    """Lit shop lettering on a dark facade: a mixed-case word, or two, glowing."""
    x1, y1, x2, y2 = np.round(box).astype(int)
    w, h = x2 - x1, y2 - y1
    if w < 4 or h < 4:
        return
    text = " ".join(_word(rng) for _ in range(rng.randint(1, 2)))
    font = _font(rng.choice(available_fonts()), max(8, int(h * 0.8)))
    mask = Image.new("L", (max(w, int(font.getlength(text)) + 4), h), 0)
    ImageDraw.Draw(mask).text((mask.width / 2, h / 2), text, fill=255, font=font, anchor="mm")
    letters = cv2.resize(np.asarray(mask, np.float32) / 255, (w, h), interpolation=cv2.INTER_AREA)
    colour = rng.choice(((255, 255, 255), (255, 240, 200), (120, 200, 255), (255, 80, 80)))
    scene[y1:y2, x1:x2] = (scene[y1:y2, x1:x2] * rng.uniform(0.2, 0.6)).astype(np.uint8)
    light = np.zeros(scene.shape, np.float32)
    light[y1:y2, x1:x2] = letters[..., None] * np.array(colour, np.float32)
    _add_glow(scene, light * rng.uniform(0.7, 1.0), sigma=max(1.5, h * rng.uniform(0.05, 0.2)))


def _patch_emblem(h: int, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """A chrome badge: a rimmed ellipse with a letter or a bar, on transparency."""
    w = int(h * rng.uniform(1.0, 1.8))
    img = Image.new("RGB", (w, h), (0, 0, 0))
    alpha = Image.new("L", (w, h), 0)
    draw, adraw = ImageDraw.Draw(img), ImageDraw.Draw(alpha)
    metal = rng.randint(150, 235)
    box = (2, 2, w - 3, h - 3)
    adraw.ellipse(box, fill=255)
    draw.ellipse(box, fill=(metal // 3,) * 3, outline=(metal,) * 3, width=max(2, h // 12))
    if rng.random() < 0.6:
        font = _font(rng.choice(available_fonts()), max(8, int(h * 0.6)))
        draw.text((w / 2, h / 2), rng.choice(string.ascii_uppercase), fill=(metal,) * 3,
                  font=font, anchor="mm")  # fmt: skip
    else:
        draw.rectangle((w * 0.15, h * 0.42, w * 0.85, h * 0.58), fill=(metal,) * 3)
    return np.asarray(img), np.asarray(alpha, np.float32) / 255


def _patch_sign(h: int, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """A shop sign or sticker: a mixed-case word, at times two, on a coloured board."""
    text = " ".join(_word(rng) for _ in range(rng.randint(1, 2)))
    font = _font(rng.choice(available_fonts()), max(8, int(h * 0.55)))
    tw = int(font.getlength(text)) + h
    bg = tuple(rng.randint(0, 255) for _ in range(3))
    fg = (20, 20, 20) if 0.3 * bg[0] + 0.59 * bg[1] + 0.11 * bg[2] > 128 else (245, 245, 245)
    img = Image.new("RGB", (tw, h), bg)
    ImageDraw.Draw(img).text((tw / 2, h / 2), text, fill=fg, font=font, anchor="mm")
    return np.asarray(img), np.ones((h, tw), np.float32)


def _paste_patch(scene: np.ndarray, box: np.ndarray, patch: np.ndarray, alpha: np.ndarray) -> None:
    x1, y1, x2, y2 = np.round(box).astype(int)
    w, h = x2 - x1, y2 - y1
    if w < 4 or h < 4:
        return
    p = cv2.resize(patch, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    a = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA)[..., None]
    region = scene[y1:y2, x1:x2].astype(np.float32)
    scene[y1:y2, x1:x2] = (p * a + region * (1 - a)).astype(np.uint8)


def draw_distractor(scene: np.ndarray, box: np.ndarray, kind: str, rng: random.Random) -> None:
    """Draws a `kind` distractor into `box` (x1, y1, x2, y2, inside the scene) in place."""
    if kind == "light_string":
        light_string(scene, box, rng)
    elif kind == "lamp_pair":
        lamp_pair(scene, box, rng)
    elif kind == "lamp_block":
        lamp_block(scene, box, rng)
    elif kind == "lit_sign":
        lit_sign(scene, box, rng)
    elif kind in ("emblem", "sign"):
        h = max(8, int(box[3] - box[1]))
        patch, alpha = (_patch_emblem if kind == "emblem" else _patch_sign)(h * 2, rng)
        # Keep the patch's own proportions inside the box's height.
        ph, pw = patch.shape[:2]
        width = min(box[2] - box[0], (box[3] - box[1]) * pw / ph)
        _paste_patch(scene, np.array([box[0], box[1], box[0] + width, box[3]]), patch, alpha)
    else:
        raise ValueError(f"unknown distractor kind {kind!r}; expected one of {ALL_KINDS}")


def distractor_box(kind: str, shape: tuple[int, int], rng: random.Random) -> np.ndarray:
    """Where a `kind` distractor goes, with the sizes such things have in a photo."""
    h, w = shape
    if kind == "light_string":
        bw, bh = rng.uniform(0.2, 0.6) * w, rng.uniform(0.03, 0.12) * h
        x, y = rng.uniform(0, w - bw), rng.uniform(0, 0.35 * h)
    else:
        bw = rng.uniform(0.04, 0.25) * w
        ratio = {"lamp_pair": (0.08, 0.2), "emblem": (0.5, 1.0), "sign": (0.15, 0.4),
                 "lamp_block": (0.25, 0.7), "lit_sign": (0.15, 0.35)}[kind]  # fmt: skip
        bh = bw * rng.uniform(*ratio)
        x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
    return np.array([x, y, x + bw, y + bh], np.float32)
