"""Fit the bar under which a character the engine read is shown as unsure, and store it in the
reader's manifest (`unsure_below`).

    python -m recognition.training.fit_unsure_bar --data ../shared/datasets --models models

A moderator or a gate operator sees each character of a reading, and those the engine doubted
are marked: the place to look twice (8 or B?). The bar is a property of the reader's weights,
so it is fitted for them, as the detector's check is: on synthetic Ukrainian plates of every type
in train-split scenes (plates no reader saw; corners off by the detector's usual error), read by
the engine's own path (our reader, the rapidocr peer on the crops it is unsure of, the format
rules). Each character of a reading as long as its label is right or wrong; a bar marks those
under it. The bar chosen is the grid's best F1 of "marked" against "wrong". The real val crops
and the fixed synthetic val set, none of which the fit sees, are scored too and printed, as the
held-out figures. `--dry-run` prints without writing.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from recognition.evaluation.metrics import score_key
from recognition.evaluation.reading import (
    Item,
    benchmark_sets,
    noisy_crop,
    read_by_region,
    shipped_combination,
)
from recognition.pipeline.engine import CombinedReader
from recognition.pipeline.ocr import OcrResult, PlateReader
from recognition.pipeline.peer import RapidPeer
from recognition.pipeline.weights import MANIFEST

log = logging.getLogger(__name__)

BAR_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
FIT_SEED = 4041  # not the evaluation sets' seeds (2026, 2027)
FIT_SET = "fit (synthetic, train scenes)"


@dataclass(frozen=True)
class BarScore:
    bar: float
    wrong: int  # wrong characters (of readings as long as their label)
    marked_wrong: int
    marked_right: int
    precision: float
    recall: float
    f1: float
    right_readings: int
    right_readings_marked: int  # readings wholly right that still show a mark: false alarms


def fit_items(data: Path, per_bucket: int, per_type: int) -> list[Item]:
    """Synthetic Ukrainian plates in train-split scenes: the yaw buckets and every type."""
    from recognition.synth.angle_set import angle_set, ua_type_set

    rng = np.random.default_rng(FIT_SEED)
    samples = [
        *angle_set(data, per_bucket=per_bucket, seed=FIT_SEED, split="train"),
        *ua_type_set(data, per_type=per_type, seed=FIT_SEED + 1, split="train"),
    ]
    return [Item(noisy_crop(s.image, s.corners, rng), s.text, s.bucket, s.format) for s in samples]


def characters(
    items: Sequence[Item], results: Sequence[OcrResult]
) -> list[list[tuple[float, bool]]]:
    """Per reading as long as its label: each character's (confidence, wrong)."""
    out = []
    for item, result in zip(items, results, strict=True):
        text, confs = result.text, result.char_confidences
        if len(text) != len(item.truth) or len(confs) != len(text):
            continue
        out.append(
            [
                (float(c), score_key(t) != score_key(p))
                for t, p, c in zip(item.truth, text, confs, strict=True)
            ]
        )
    return out


def bar_scores(readings: Sequence[Sequence[tuple[float, bool]]]) -> list[BarScore]:
    chars = [c for reading in readings for c in reading]
    wrong = sum(w for _, w in chars)
    right_readings = [r for r in readings if not any(w for _, w in r)]
    scores = []
    for bar in BAR_GRID:
        marked_wrong = sum(1 for c, w in chars if w and c < bar)
        marked_right = sum(1 for c, w in chars if not w and c < bar)
        precision = marked_wrong / max(marked_wrong + marked_right, 1)
        recall = marked_wrong / max(wrong, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        scores.append(
            BarScore(
                bar,
                wrong,
                marked_wrong,
                marked_right,
                round(precision, 4),
                round(recall, 4),
                round(f1, 4),
                len(right_readings),
                sum(1 for r in right_readings if any(c < bar for c, _ in r)),
            )
        )
    return scores


def table(title: str, scores: Sequence[BarScore], chosen: float) -> str:
    lines = [
        f"{title}: {scores[0].wrong} wrong characters; {scores[0].right_readings} readings right",
        "  bar   marked wrong  marked right  precision  recall   F1     right readings marked",
    ]
    for s in scores:
        false_alarms = s.right_readings_marked / max(s.right_readings, 1)
        lines.append(
            f"{'*' if s.bar == chosen else ' '} {s.bar:.2f}  {s.marked_wrong:>12}  "
            f"{s.marked_right:>12}  {s.precision:>9.3f}  {s.recall:>6.3f}  {s.f1:.3f}  "
            f"{s.right_readings_marked:>6} ({false_alarms:.1%})"
        )
    return "\n".join(lines)


def plot(sets: dict[str, list[BarScore]], chosen: float, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, scores in sets.items():
        bars = [s.bar for s in scores]
        ax.plot(bars, [s.recall for s in scores], marker="o", label=f"{name}: wrong marked")
        ax.plot(
            bars, [s.precision for s in scores], marker="x", ls="--", label=f"{name}: precision"
        )
    ax.axvline(chosen, color="grey", lw=1)
    ax.set_xlabel("unsure bar (character confidence)")
    ax.set_ylim(0, 1.02)
    ax.set_title("Characters marked unsure")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "unsure_bar.png", dpi=120)
    plt.close(fig)


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/datasets", type=Path)
    p.add_argument("--models", default="models", type=Path, help="holds ocr/")
    p.add_argument("--out", default="bench/out", type=Path)
    p.add_argument("--per-bucket", default=60, type=int, help="fit plates per yaw bucket")
    p.add_argument("--per-type", default=30, type=int, help="fit plates per Ukrainian type")
    p.add_argument("--dry-run", action="store_true", help="print, write nothing to the manifest")
    return p


def main(argv: list[str] | None = None) -> float:
    args = get_args_parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    reader = PlateReader.load(args.models / "ocr")
    read = shipped_combination(CombinedReader(reader, RapidPeer(cache=True)))
    held_out = benchmark_sets(args.data, per_bucket=40, seed=2026)
    sets = {
        FIT_SET: fit_items(args.data, args.per_bucket, args.per_type),
        "held out: real val crops": held_out["real"],
        "held out: synthetic val": held_out["synth_ua"],
    }
    scored = {}
    for name, items in sets.items():
        results, _ms = read_by_region(read, items)
        scored[name] = bar_scores(characters(items, results))
    chosen = max(scored[FIT_SET], key=lambda s: (s.f1, -s.bar)).bar
    for name, scores in scored.items():
        print(table(name, scores, chosen))  # noqa: T201 (the command's report)
    print(f"chosen: unsure below {chosen} (best F1 on the fit set)")  # noqa: T201
    plot(scored, chosen, args.out)
    report = {name: [asdict(s) for s in scores] for name, scores in scored.items()}
    report_path = args.out / "unsure_bar.json"
    report_path.write_text(json.dumps({"chosen": chosen, "sets": report}, indent=2) + "\n")
    if not args.dry_run:
        path = args.models / "ocr" / MANIFEST
        manifest = json.loads(path.read_text())
        manifest["unsure_below"] = chosen
        manifest["unsure_below_fit"] = (
            f"best F1 of marked against wrong characters on {len(sets[FIT_SET])} "
            "synthetic Ukrainian plates in train scenes (recognition.training.fit_unsure_bar)"
        )
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote unsure_below {chosen} to {path}")  # noqa: T201
    return chosen


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
