"""Redaction benchmark: is every plate hidden in the copy fit to publish, and how much else is?

    python -m recognition.evaluation redact                  # val: the figures
    python -m recognition.evaluation redact --split train    # the grid the choices come from

On the real photos with boxed plates (the detection sets' split) the engine runs as the
marketplace deploys it (`ua,eu`: a US or Brazilian plate is then no plate it reports, and is
hidden only as a detection), and each photo is redacted as the product redacts it
(`recognition.pipeline.redact`). Per system it prints:
- covered: labelled plates with 90 % or more of their box hidden (the inner 80 % of the box's
  width and height: the labels are loose);
- leaks: labelled plates whose text is still read on the redacted copy, by our engine (every
  region on) or by rapidocr's whole-photo OCR; the same readers on the untouched photo first,
  in the same run, say how many could be read at all. `ua_parking_val` (val only, text labels)
  counts in the leaks;
- hidden elsewhere: the share of a photo hidden outside every labelled box (on the sets whose
  every plate is boxed: elsewhere an unboxed plate would count as over-hiding);
- ms per photo to hide (after recognition, which the readings already paid for).

The peer is the generic way to hide plates without an ALPR engine: every text line rapidocr's
whole-photo OCR finds, hidden the same way. `--split train` prints the grid of the engine's two
choices (the score from which a detection is hidden whatever it read, and the margin), from
which `engine.HIDE_MIN_SCORE` and `redact.HIDE_MARGIN` were taken; the leak checks are left out
there.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from recognition.datasets import PARTIAL_LABEL_SETS, load_records, read_rgb
from recognition.evaluation.endtoend import (
    SYNTHETIC_REGIONS,
    Case,
    judge_plate_reader,
    judge_text_lines,
    ours,
    rapidocr_peer,
    ua_parking_cases,
)
from recognition.pipeline.engine import areas_to_hide
from recognition.pipeline.redact import HIDE_MARGIN, hidden_mask, hide_plates
from recognition.pipeline.regions import DEFAULT_REGIONS
from recognition.pipeline.types import PhotoResult, Point

COVERED_SHARE = 0.9  # of the labelled box's inner part
BOX_INNER = 0.1  # cut from each side of a labelled box before measuring its cover
SCORES = (0.1, 0.3, 0.5, 0.7, 0.9)
MARGINS = (0.15, 0.25, 0.35, 0.5)
Quad = Sequence[Point]


@dataclass(frozen=True)
class Photo:
    image: np.ndarray
    boxes: tuple[tuple[float, float, float, float], ...]  # photo pixels
    texts: tuple[str | None, ...]
    fully_labelled: bool  # every plate on it is boxed
    group: str


def real_photos(data: Path, split: str, limit: int | None) -> list[Photo]:
    photos = []
    for rec in load_records(data, split)[: limit or None]:
        image, scale = read_rgb(rec.path, max_side=4096)
        boxes = tuple(tuple(float(v) * scale for v in box) for box in rec.boxes)
        full = rec.dataset not in PARTIAL_LABEL_SETS
        photos.append(Photo(image, boxes, rec.texts, full, rec.dataset))  # type: ignore[arg-type]
    return photos


def engine_quads(result: PhotoResult, min_score: float) -> list[Quad]:
    """What the product hides at `min_score` (the engine's own rule, `areas_to_hide`)."""
    return [a.corners for a in areas_to_hide(result.areas, min_score)]


def cover(mask: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """The share of the labelled box's inner part that `mask` hides."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * BOX_INNER, (y2 - y1) * BOX_INNER
    h, w = mask.shape
    a, b = int(np.clip(round(x1 + dx), 0, w)), int(np.clip(round(x2 - dx), 0, w))
    c, d = int(np.clip(round(y1 + dy), 0, h)), int(np.clip(round(y2 - dy), 0, h))
    inner = mask[c:d, a:b]
    return float(inner.mean()) if inner.size else 1.0


def hidden_elsewhere(mask: np.ndarray, boxes: Sequence[tuple[float, ...]]) -> float:
    """The share of the photo hidden outside every labelled box."""
    outside = mask.copy()
    for x1, y1, x2, y2 in boxes:
        outside[max(0, int(y1)) : int(np.ceil(y2)), max(0, int(x1)) : int(np.ceil(x2))] = False
    return float(outside.mean())


def _scores(masks: list[tuple[Photo, np.ndarray]]) -> dict[str, object]:
    covers = [(p.group, cover(m, box) >= COVERED_SHARE) for p, m in masks for box in p.boxes]
    elsewhere = [hidden_elsewhere(m, p.boxes) for p, m in masks if p.fully_labelled]
    groups = sorted({group for group, _ in covers})
    return {
        "plates": len(covers),
        "covered": float(np.mean([ok for _, ok in covers])) if covers else 0.0,
        "covered_by_set": {
            g: round(float(np.mean([ok for group, ok in covers if group == g])), 3) for g in groups
        },
        # Mean and median share of a photo, on the sets whose every plate is boxed.
        "hidden_elsewhere": float(np.mean(elsewhere)) if elsewhere else 0.0,
        "hidden_elsewhere_median": float(np.median(elsewhere)) if elsewhere else 0.0,
    }


def grid(photos: list[Photo], results: list[PhotoResult]) -> dict[str, dict[str, object]]:
    """Covered and hidden-elsewhere for each pair of choices (score, margin)."""
    out = {}
    for score in SCORES:
        for margin in MARGINS:
            masks = [
                (p, hidden_mask(p.image.shape, engine_quads(r, score), margin))
                for p, r in zip(photos, results, strict=True)
            ]
            out[f"score {score} margin {margin}"] = _scores(masks)
    return out


def leak_cases(photo: Photo) -> list[Case]:
    """One case per labelled plate with a text (the judges take one plate at a time)."""
    return [
        Case(photo.image, np.array(box, np.float32), text, photo.group, SYNTHETIC_REGIONS)
        for box, text in zip(photo.boxes, photo.texts, strict=True)
        if text
    ]


def main(argv: list[str] | None = None) -> dict[str, object]:
    import torch

    from recognition.pipeline.engine import DEFAULT_MODELS_DIR, HIDE_MIN_SCORE, load_engine

    p = argparse.ArgumentParser(prog="python -m recognition.evaluation redact", description=__doc__)
    p.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    p.add_argument("--out", type=Path, default=Path("bench/out"))
    p.add_argument("--limit", type=int, default=None, help="first N real photos only")
    p.add_argument("--split", choices=("val", "train"), default="val")
    p.add_argument("--no-peer", action="store_true", help="skip rapidocr (its reads and areas)")
    args = p.parse_args(argv)
    torch.set_num_threads(2)

    photos = real_photos(args.data, args.split, args.limit)
    engine = load_engine(args.models, regions=DEFAULT_REGIONS)
    engine.hide_min_score = 0.0  # every candidate's area: the grid and the cut below choose
    results = [
        engine.recognize_batch([ph.image])[0] for ph in tqdm(photos, desc="recognise", unit="photo")
    ]
    report: dict[str, object] = {"split": args.split, "photos": len(photos)}
    report["grid"] = grid(photos, results)
    if args.split == "val":
        report.update(_val(args, engine, photos, results, HIDE_MIN_SCORE))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "redaction" if args.split == "val" else f"redaction_{args.split}"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    _plot(report, HIDE_MIN_SCORE, args.out / f"{stem}_grid.png")
    _print(report, HIDE_MIN_SCORE)
    return report


def _val(args, engine, photos, results, min_score) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The product's redaction and the peer's on val: cover, leaks, hidden elsewhere, ms."""
    from recognition.pipeline.engine import load_engine

    reader = ours({SYNTHETIC_REGIONS: load_engine(args.models, regions=SYNTHETIC_REGIONS)})
    peer = None if args.no_peer else rapidocr_peer()
    systems: dict[str, list[list[Quad]]] = {
        "platecheck": [engine_quads(r, min_score) for r in results]
    }
    if peer is not None:
        systems["rapidocr_text_lines"] = [_peer_quads(ph.image) for ph in tqdm(photos, "peer")]
    ua = [] if args.no_peer else list(ua_parking_cases(args.data))
    if ua:  # the same redaction on the Ukrainian photos (text labels: leaks only)
        ua_results = [engine.recognize_batch([c.image])[0] for c in ua]
        ua_quads = {"platecheck": [engine_quads(r, min_score) for r in ua_results]}
        ua_quads["rapidocr_text_lines"] = [_peer_quads(c.image) for c in ua]
    out: dict[str, object] = {}
    before = _leaks(photos, [ph.image for ph in photos], ua, [c.image for c in ua], reader, peer)
    out["readable_before"] = before
    for name, quads in systems.items():
        t0 = time.perf_counter()
        copies = [hide_plates(ph.image, q) for ph, q in zip(photos, quads, strict=True)]
        ms = (time.perf_counter() - t0) * 1000 / max(len(photos), 1)
        masks = [
            (ph, hidden_mask(ph.image.shape, q, HIDE_MARGIN))
            for ph, q in zip(photos, quads, strict=True)
        ]
        ua_copies = (
            [hide_plates(c.image, q) for c, q in zip(ua, ua_quads[name], strict=True)] if ua else []
        )
        out[name] = {
            **_scores(masks),
            "leaks": _leaks(photos, copies, ua, ua_copies, reader, peer),
            "ms_per_photo": ms,
        }
    return out


def _peer_quads(image: np.ndarray) -> list[Quad]:
    from rapidocr import RapidOCR

    global _PEER
    if _PEER is None:
        _PEER = RapidOCR(params={"Global.log_level": "error"})
    found = _PEER(image[:, :, ::-1].copy())
    if found.boxes is None:
        return []
    return [tuple((float(x), float(y)) for x, y in box) for box in found.boxes]


_PEER: Any = None


def _leaks(photos, images, ua, ua_images, reader, peer) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Labelled plates read on `images` (and `ua_images`), by our engine and by the peer."""
    counts = {"plates": 0, "platecheck": 0, "rapidocr_whole_photo": 0}
    pairs = [
        (Case(image, c.box, c.text, c.group, c.regions), c)
        for ph, image in zip(photos, images, strict=True)
        for c in leak_cases(ph)
    ] + [
        (Case(image, None, c.text, c.group, SYNTHETIC_REGIONS), c)
        for c, image in zip(ua, ua_images, strict=True)
    ]
    ours_found: dict[int, list] = {}  # type: ignore[type-arg]
    peer_found: dict[int, list] = {}  # type: ignore[type-arg]
    for case, _ in tqdm(pairs, desc="leaks", unit="plate"):  # each photo read once
        counts["plates"] += 1
        key = id(case.image)
        if key not in ours_found:
            ours_found[key] = reader(case)
        counts["platecheck"] += judge_plate_reader(ours_found[key], case)
        if peer is not None:
            if key not in peer_found:
                peer_found[key] = peer(case)
            counts["rapidocr_whole_photo"] += judge_text_lines(peer_found[key], case)
    return counts


def _print(report: dict, min_score: float) -> None:  # type: ignore[type-arg]
    lines = [f"redaction, {report['split']} split, {report['photos']} photos"]
    for key, row in report["grid"].items():
        mark = " <- shipped" if key == f"score {min_score} margin {HIDE_MARGIN}" else ""
        lines.append(
            f"  {key:24s} covered {row['covered']:.3f} of {row['plates']} plates, "
            f"hidden elsewhere {row['hidden_elsewhere'] * 100:.2f} % of a photo (median "
            f"{row['hidden_elsewhere_median'] * 100:.2f} %){mark}"
        )
        lines.append(f"  {'':24s} covered by set {row['covered_by_set']}")
    if "readable_before" in report:
        lines.append(f"  readable before redaction: {report['readable_before']}")
    for name in ("platecheck", "rapidocr_text_lines"):
        if name in report:
            row = report[name]
            lines.append(
                f"  {name}: covered {row['covered']:.3f} {row['covered_by_set']}, leaks "
                f"{row['leaks']}, hidden elsewhere {row['hidden_elsewhere'] * 100:.2f} % (median "
                f"{row['hidden_elsewhere_median'] * 100:.2f} %), {row['ms_per_photo']:.1f} ms/photo"
            )
    print("\n".join(lines))  # noqa: T201


def _plot(report: dict, min_score: float, path: Path) -> None:  # type: ignore[type-arg]
    """Plates hidden whole against the photo hidden elsewhere, one line per score, a point per
    margin; the shipped pair and the peer marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for score in SCORES:
        rows = [report["grid"][f"score {score} margin {m}"] for m in MARGINS]
        xs = [r["hidden_elsewhere_median"] * 100 for r in rows]
        ax.plot(xs, [r["covered"] for r in rows], marker="o", label=f"hidden from score {score}")
        for x, r, m in zip(xs, rows, MARGINS, strict=True):
            ax.annotate(
                f"{m}", (x, r["covered"]), fontsize=7, xytext=(3, -9), textcoords="offset points"
            )
    shipped = report["grid"][f"score {min_score} margin {HIDE_MARGIN}"]
    ax.scatter(
        [shipped["hidden_elsewhere_median"] * 100], [shipped["covered"]], s=160,
        facecolors="none", edgecolors="black", label="shipped",
    )  # fmt: skip
    if "rapidocr_text_lines" in report:
        peer = report["rapidocr_text_lines"]
        ax.scatter(
            [peer["hidden_elsewhere_median"] * 100], [peer["covered"]], marker="x", s=80,
            color="red", label="rapidocr's text lines hidden",
        )  # fmt: skip
    ax.set(
        xlabel="photo hidden outside the labelled plates, % (median photo; numbers: margin)",
        ylabel="labelled plates hidden whole",
        title=f"Redaction, {report['split']} split ({report['photos']} photos)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
