"""Drawn car scenes with a plate on the bumper, for the demo's sample listings and the README.

The shared datasets may not be copied into the repository, so the sample photos that ship with
it are drawn here: a street, a car seen from behind or the front, and a rendered plate under a
known pose. Their text and corners are exact.

    python -m recognition.synth.scenes --out DIR AA1234BB:ua_2015:silver BC7777AX:ua_2004:red ...
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recognition.synth.compose import paste, pose_corners
from recognition.synth.degrade import degrade_camera
from recognition.synth.plates import render_plate

CAR_COLOURS = {
    "black": (25, 25, 28), "white": (235, 235, 232), "silver": (170, 172, 176),
    "grey": (110, 112, 115), "red": (170, 25, 30), "blue": (30, 60, 150),
    "green": (30, 100, 50), "yellow": (220, 180, 30), "brown": (100, 60, 35),
}  # fmt: skip


@dataclass(frozen=True)
class Scene:
    image: np.ndarray
    corners: np.ndarray
    text: str
    format: str


def _street(h: int, w: int, rng: random.Random) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    horizon = int(h * rng.uniform(0.35, 0.5))
    sky = np.linspace(rng.uniform(150, 210), rng.uniform(200, 250), horizon)
    img[:horizon] = np.stack([sky * 0.8, sky * 0.9, sky], axis=1)[:, None, :].astype(np.uint8)
    for _ in range(rng.randint(3, 7)):  # buildings
        x = rng.randrange(w)
        bw, bh = rng.randint(80, 260), rng.randint(60, horizon)
        shade = rng.randint(90, 200)
        cv2.rectangle(
            img, (x, horizon - bh), (x + bw, horizon), (shade, shade - 10, shade - 25), -1
        )
    road = rng.randint(70, 110)
    img[horizon:] = (road, road, road + 4)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _car(img: np.ndarray, colour: tuple[int, int, int], rng: random.Random) -> tuple[int, int, int]:
    """Draw a car seen from behind; returns (bumper centre x, bumper centre y, car width)."""
    h, w = img.shape[:2]
    cw = int(w * rng.uniform(0.5, 0.7))
    cx = int(w * rng.uniform(0.4, 0.6))
    bottom = int(h * rng.uniform(0.82, 0.92))
    top = bottom - int(cw * 0.62)
    x0, x1 = cx - cw // 2, cx + cw // 2
    for wx in (x0 + cw // 8, x1 - cw // 8):  # wheels
        cv2.ellipse(img, (wx, bottom), (cw // 10, cw // 14), 0, 0, 360, (15, 15, 15), -1)
    side, roof = cw // 30, top + cw // 4
    body = np.array([[x0, bottom - cw // 20], [x0 + side, roof], [x0 + cw // 5, top],
                     [x1 - cw // 5, top], [x1 - side, roof], [x1, bottom - cw // 20]])  # fmt: skip
    cv2.fillPoly(img, [body], colour)
    glass = np.array([[x0 + cw // 5 + 10, top + 12], [x1 - cw // 5 - 10, top + 12],
                      [x1 - cw // 9, roof - 6], [x0 + cw // 9, roof - 6]])  # fmt: skip
    cv2.fillPoly(img, [glass], (45, 55, 65))
    ly = top + cw // 4 + cw // 20
    for lx in (x0 + cw // 20, x1 - cw // 20 - cw // 7):  # tail lights
        cv2.rectangle(img, (lx, ly), (lx + cw // 7, ly + cw // 18), (200, 30, 30), -1)
    bumper_y = bottom - cw // 9
    cv2.rectangle(img, (x0, bumper_y - cw // 40), (x1, bumper_y + cw // 22), (35, 35, 38), -1)
    return cx, bumper_y - cw // 30, cw


def render_scene(text: str, fmt: str, colour: str, rng: random.Random, yaw: float = 0.0) -> Scene:
    lines = (text[:2], text[2:]) if fmt == "ua_square" else (text,)
    img = cv2.cvtColor(_street(768, 1024, rng), cv2.COLOR_BGR2RGB)
    rgb = CAR_COLOURS.get(colour, CAR_COLOURS["grey"])
    cx, cy, cw = _car(img, rgb, rng)
    plate = render_plate(fmt, rng, lines=lines)
    width = cw * (0.28 if fmt == "ua_square" else 0.4)
    quad = pose_corners(
        plate.image.shape[:2], (cx, cy), width, yaw, rng.uniform(-5, 5), rng.uniform(-2, 2)
    )
    pasted = paste(img, plate.image, quad)
    img = degrade_camera(img, rng, strength=0.2)
    return Scene(img, pasted.corners, plate.text, fmt)


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m recognition.synth.scenes", description=__doc__)
    p.add_argument("--out", type=Path, required=True, help="folder the JPEGs are written to")
    p.add_argument("plates", nargs="+", help="TEXT:FORMAT:COLOUR, e.g. AA1234BB:ua_2015:silver")
    return p


def main(argv: list[str]) -> int:
    args = get_args_parser().parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2026)
    for spec in args.plates:
        text, fmt, colour = spec.split(":")
        for view, yaw in (("a", rng.uniform(-12, 12)), ("b", rng.uniform(20, 35))):
            scene = render_scene(text, fmt, colour, rng, yaw=yaw)
            path = out / f"{text}_{view}.jpg"
            cv2.imwrite(
                str(path),
                cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 88],
            )
            sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
