"""End-to-end benchmark on whole photos: the plate is found (IoU >= 0.5) and every character is
right, as SLPNet scores it; ours side by side with a general-purpose OCR peer (rapidocr's PP-OCR
detector + recogniser on the whole photo). Also ms per photo for the whole pipeline.

    python -m recognition.evaluate read --e2e-only
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from recognition.pipeline.metrics import box_iou
from recognition.synth.angle_set import angle_set
from recognition.training.det_data import load_records, read_rgb

log = logging.getLogger(__name__)
_SCORING_MAP = str.maketrans({"O": "0", "I": "1"})


def score_text(text: str) -> str:
    """The dataset README's rule: compare after O->0 and I->1 on both sides."""
    return "".join(ch for ch in text.upper() if ch.isalnum()).translate(_SCORING_MAP)


@dataclass(frozen=True)
class Case:
    image: np.ndarray
    box: np.ndarray  # (4,) x1 y1 x2 y2
    text: str
    group: str  # e.g. "real/br" or "synthetic/30-45"


def real_cases(data: Path, limit: int | None = None) -> Iterator[Case]:
    records = [
        r for r in load_records(data, "val", ("openalpr_endtoend",)) if r.texts and r.texts[0]
    ]
    for rec in records[: limit or None]:
        image, scale = read_rgb(rec.path, max_side=4096)
        region = rec.path.name.split("_")[1] if rec.path.name.count("_") >= 2 else "?"
        yield Case(
            image, np.array(rec.boxes[0], np.float32) * scale, str(rec.texts[0]), f"real/{region}"
        )


def synthetic_cases(data: Path, per_bucket: int) -> Iterator[Case]:
    for s in angle_set(data, per_bucket, seed=7):
        yield Case(s.image, s.box, s.text, f"synthetic/{s.bucket}")


def ours(engine) -> callable:
    def run(image: np.ndarray) -> list[tuple[np.ndarray, str]]:
        result = engine.recognize_batch([image])[0]
        return [(np.array(p.box, np.float32), p.text) for p in result.plates]

    return run


def rapidocr_peer() -> callable:
    from rapidocr import RapidOCR

    peer = RapidOCR(params={"Global.log_level": "error"}) if _accepts_params() else RapidOCR()

    def run(image: np.ndarray) -> list[tuple[np.ndarray, str]]:
        out = peer(image[:, :, ::-1].copy())  # the peer takes BGR like OpenCV
        if out.boxes is None:
            return []
        return [
            (np.concatenate([b.min(0), b.max(0)]).astype(np.float32), t)
            for b, t in zip(out.boxes, out.txts, strict=True)
        ]

    return run


def _accepts_params() -> bool:
    import inspect

    from rapidocr import RapidOCR

    return "params" in inspect.signature(RapidOCR.__init__).parameters


def judge_plate_reader(found: list[tuple[np.ndarray, str]], case: Case) -> bool:
    """Our output is one box + text per plate: the matched box must read exactly."""
    boxes = np.array([b for b, _ in found], np.float32).reshape(-1, 4)
    if not len(boxes):
        return False
    ious = box_iou(boxes, case.box[None])[:, 0]
    best = int(ious.argmax())
    return bool(ious[best] >= 0.5 and score_text(found[best][1]) == score_text(case.text))


def judge_text_lines(found: list[tuple[np.ndarray, str]], case: Case) -> bool:
    """A general OCR reports text lines, not plates: the lines whose centres fall inside the plate
    box are joined top to bottom, left to right (generous to the peer: no IoU on its boxes)."""
    x1, y1, x2, y2 = case.box
    inside = [
        (b, t) for b, t in found if x1 <= (b[0] + b[2]) / 2 <= x2 and y1 <= (b[1] + b[3]) / 2 <= y2
    ]
    inside.sort(key=lambda bt: (round(float(bt[0][1]) / max(y2 - y1, 1) * 2), float(bt[0][0])))
    joined = score_text("".join(t for _, t in inside))
    target = score_text(case.text)
    return bool(joined == target or any(score_text(t) == target for _, t in inside))


def run_benchmark(
    readers: dict[str, tuple[callable, callable]], cases: list[Case]
) -> dict[str, object]:
    report: dict[str, object] = {}
    for name, (reader, judge) in readers.items():
        hits: dict[str, list[bool]] = {}
        times: list[float] = []
        if cases:
            reader(cases[0].image)  # warm-up: lazy model builds are not per-photo cost
        for case in tqdm(cases, desc=f"end-to-end {name}", unit="photo"):
            t0 = time.perf_counter()
            found = reader(case.image)
            times.append((time.perf_counter() - t0) * 1000)
            ok = judge(found, case)
            for key in (case.group.split("/")[0], case.group):
                hits.setdefault(key, []).append(ok)
        report[name] = {
            "accuracy": {k: float(np.mean(v)) for k, v in sorted(hits.items())},
            "n": {k: len(v) for k, v in sorted(hits.items())},
            "ms_per_photo": {
                "p50": float(np.percentile(times, 50)),
                "p95": float(np.percentile(times, 95)),
            },
        }
    return report


def main(argv: list[str] | None = None) -> dict[str, object]:
    import argparse
    import json

    import torch

    from recognition.pipeline.engine import DEFAULT_MODELS_DIR, load_engine

    p = argparse.ArgumentParser(prog="python -m recognition.evaluate e2e", description=__doc__)
    p.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    p.add_argument("--out", type=Path, default=Path("bench/out"))
    p.add_argument("--per-bucket", type=int, default=10, help="synthetic photos per yaw bucket")
    p.add_argument("--limit", type=int, default=None, help="first N real val photos only")
    p.add_argument("--no-peer", action="store_true", help="skip the rapidocr whole-photo peer")
    p.add_argument(
        "--crop-pad",
        type=float,
        nargs=2,
        default=None,
        metavar=("X", "Y"),
        help="margin around the detected plate instead of the engine's CROP_PAD (to measure it)",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    cases = [*real_cases(args.data, args.limit), *synthetic_cases(args.data, args.per_bucket)]
    engines = [load_engine(args.models), load_engine(args.models, with_peer=False)]
    for engine in engines:
        if args.crop_pad:
            engine.crop_pad = (args.crop_pad[0], args.crop_pad[1])
    readers = {
        "platecheck": (ours(engines[0]), judge_plate_reader),
        "platecheck_reader_alone": (ours(engines[1]), judge_plate_reader),
    }
    if not args.no_peer:
        readers["rapidocr_whole_photo"] = (rapidocr_peer(), judge_text_lines)
    report = run_benchmark(readers, cases)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "endtoend.json").write_text(json.dumps(report, indent=2))
    _plot(report, args.out / "endtoend_by_group.png")
    for name, r in report.items():
        acc = "  ".join(f"{k} {v:.3f}" for k, v in r["accuracy"].items())
        ms = r["ms_per_photo"]
        print(f"{name:22s} end-to-end {acc}  ms/photo p50 {ms['p50']:.0f} p95 {ms['p95']:.0f}")  # noqa: T201
    return report


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({g for r in report.values() for g in r["accuracy"] if "/" in g})
    fig, ax = plt.subplots(figsize=(max(6, len(groups) * 0.9), 4))
    width = 0.8 / max(len(report), 1)
    for i, (name, r) in enumerate(report.items()):
        xs = np.arange(len(groups)) + i * width
        ax.bar(xs, [r["accuracy"].get(g, 0) for g in groups], width, label=name)
    ax.set_xticks(
        np.arange(len(groups)) + width * (len(report) - 1) / 2, groups, rotation=30, ha="right"
    )
    ax.set(ylabel="end-to-end accuracy", ylim=(0, 1.05), title="Plate found and read exactly")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
