"""`python -m recognition recognize PHOTO... [--json] [--overlay OUT.png] [--hidden OUT.png]
[--regions ua,eu]`.

Reads the plates on photos. Only text that fits a plate format of `--regions` (default: the
PLATECHECK_REGIONS environment variable, else "ua,eu") is a plate; other text read on a detection
is listed with `--json` under `debug.rejected`, never under `plates`. `--hidden` writes the copy fit
to publish: every place a plate may be (`areas` in the JSON) hidden.

Exit status: 0 when every photo was read (an empty plate list is a valid answer), 1 when some
photo could not be opened, 2 when the engine is unavailable or the regions are unknown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from recognition.pipeline.images import ImageRejected, load_photo
from recognition.pipeline.redact import hide_plates
from recognition.pipeline.regions import DEFAULT_REGIONS, UnknownRegion, region_formats
from recognition.pipeline.types import EngineUnavailable, PhotoResult

PHOTO_BATCH = 4  # photos per engine call: bounds memory for a long argument list


def draw_overlay(image: np.ndarray, result: PhotoResult) -> np.ndarray:
    """The photo with each plate's outline and its text drawn on it."""
    import cv2

    out = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    thickness = max(2, round(max(image.shape[:2]) / 400))
    for plate in result.plates:
        pts = np.round(np.array(plate.corners)).astype(np.int32)
        cv2.polylines(out, [pts], True, (0, 220, 0), thickness)
        label = f"{plate.text} {plate.confidence:.2f}"
        scale = thickness * 0.45
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        x, y = int(pts[:, 0].min()), max(int(pts[:, 1].min()) - 6, th + 4)
        cv2.rectangle(out, (x, y - th - 4), (x + tw + 4, y + 4), (0, 0, 0), -1)
        cv2.putText(
            out, label, (x + 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 255, 255), thickness
        )
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def _as_json(path: str, result: PhotoResult) -> dict[str, object]:
    return {
        "photo": path,
        "plates": [asdict(p) for p in result.plates],
        "timings_ms": result.timings_ms,
        # Where a plate may be, read or not: what the copy fit to publish hides.
        "areas": [asdict(a) for a in result.areas],
        # Text read on detections that fits no plate format of the regions: not plates.
        "debug": {"rejected": [asdict(r) for r in result.rejected]},
    }


def _print_text(path: str, result: PhotoResult) -> None:
    if not result.plates:
        sys.stdout.write(f"{path}: no plate found\n")
    for plate in result.plates:
        alts = ", ".join(f"{a.text} {a.score:.2f}" for a in plate.alternatives[1:])
        sys.stdout.write(
            f"{path}: {plate.text}  format={plate.format}  confidence={plate.confidence:.2f}"
            + (f"  alternatives: {alts}" if alts else "")
            + "\n"
        )


def recognize(args: argparse.Namespace) -> int:
    from recognition.pipeline.engine import load_engine

    try:
        region_formats(args.regions)
    except UnknownRegion as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    engine = None  # loaded on the first readable photo: bad input is reported without the wait
    status, payload = 0, []
    photos = list(args.photos)
    for start in range(0, len(photos), PHOTO_BATCH):
        loaded: list[tuple[str, np.ndarray]] = []
        for path in photos[start : start + PHOTO_BATCH]:
            try:
                loaded.append((path, load_photo(Path(path).read_bytes())))
            except (OSError, ImageRejected) as exc:
                sys.stderr.write(f"error: {path}: {exc}\n")
                status = 1
        if not loaded:
            continue
        if engine is None:
            try:
                engine = load_engine(args.models, regions=args.regions)
            except EngineUnavailable as exc:
                sys.stderr.write(f"error: {exc}\n")
                return 2
        for (path, image), result in zip(
            loaded, engine.recognize_batch([i for _, i in loaded]), strict=True
        ):
            if args.json:
                payload.append(_as_json(path, result))
            else:
                _print_text(path, result)
            if args.overlay:
                _save_image(args.overlay, path, draw_overlay(image, result), len(photos) > 1)
            if args.hidden:
                quads = [area.corners for area in result.areas]
                _save_image(args.hidden, path, hide_plates(image, quads), len(photos) > 1)
    if args.json:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    return status


def _save_image(target: Path, path: str, image: np.ndarray, many: bool) -> None:
    """`image` to `target`, or (several photos) to `target` named after the photo too."""
    from PIL import Image

    out = target
    if many:
        out = target.with_name(f"{target.stem}-{Path(path).stem}{target.suffix or '.png'}")
    Image.fromarray(image).save(out)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recognition", description="platecheck recognition"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("recognize", help="read the plates on photos")
    rec.add_argument("photos", nargs="+", help="JPEG, PNG or WebP files")
    rec.add_argument("--json", action="store_true", help="print JSON instead of text")
    rec.add_argument(
        "--overlay", type=Path, help="write the photo with outlines and text to this PNG"
    )
    rec.add_argument(
        "--hidden", type=Path, help="write the copy fit to publish (plates hidden) to this file"
    )
    rec.add_argument("--models", type=Path, default=None, help="models folder (default: models/)")
    rec.add_argument(
        "--regions",
        default=os.environ.get("PLATECHECK_REGIONS", DEFAULT_REGIONS),
        help="plate regions reported, e.g. 'ua,eu' (codes: ua, eu, us, br, pl, md, ro, sk, hu, uk)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    import torch

    torch.set_num_threads(2)
    return recognize(args)
