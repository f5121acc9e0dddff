"""End-to-end benchmark on whole photos: the plate is found (IoU >= 0.5) and every character is
right, as SLPNet scores it; ours side by side with a general-purpose OCR peer (rapidocr's PP-OCR
detector + recogniser on the whole photo), in the same run. Also ms per photo for the pipeline.

    python -m recognition.evaluation e2e --per-bucket 40

Sets: the real `openalpr_endtoend` val photos (a box and a text each), synthetic photos by yaw,
and `ua_parking_val` (real Ukrainian photos, text only: a hit is the labelled text among the
photo's reported plates, as its README says). Besides accuracy, per system:
- junk per photo: reported plates that are not the labelled plate (on openalpr photos a second,
  unlabelled plate can be real, so ua_parking_val's one-car photos are the cleaner figure);
- whole plate (ours only): the share of labelled plates with a crop that holds the whole text,
  counted when our reader or the generic recogniser reads the full labelled text from one of
  the crops the engine cuts (a lower bound: a misread whole crop counts as clipped).
Each set's one-row plates are also counted by their width in the photo (`WIDTH_BANDS`: under
100 px, 100-170, 170 and over), the measure ALPR vendors state their minimum plate size in.

It writes the report (`endtoend.json`), a chart by group and a contact sheet of our misses
(`endtoend_misses.png`, `recognition.evaluation.miss_sheet`) into `--out`.

Choices (a threshold, a margin, a prior) are made on `--split train`: the real train photos and
synthetic plates drawn with other seeds on train scenes, no `ua_parking_val`. The val figures
report them; they never pick them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from recognition.datasets import load_records, plate_texts, read_rgb
from recognition.evaluation.metrics import box_iou, score_key, score_text
from recognition.evaluation.miss_sheet import miss_sheet
from recognition.pipeline.regions import DEFAULT_REGIONS
from recognition.synth.angle_set import angle_set, ua_type_set

log = logging.getLogger(__name__)
# Each photo is read as a deployment in its country would read it: the openalpr photos with
# their own region (us, br or eu), the synthetic ones with the formats they were drawn from
# ("us,br,eu,ua"), the Ukrainian ones with the marketplace's default regions.
SYNTHETIC_REGIONS = "us,br,eu,ua"

# One-row plates are also counted by their labelled box's width in the photo (px), the measure
# ALPR vendors state their minimum in: Milestone's XProtect LPR asks at least 170 px of a
# European one-row plate ("plate width recommendations"); under 100 px a 52 cm plate's 1 cm
# strokes are under 2 px. (lower bound, upper bound, the group's suffix)
# The suffixes sort in width order in the report and its chart.
WIDTH_BANDS = (
    (0.0, 100.0, "px0-100"),
    (100.0, 170.0, "px100-170"),
    (170.0, float("inf"), "px170+"),
)


@dataclass(frozen=True)
class Case:
    image: np.ndarray
    box: np.ndarray | None  # (4,) x1 y1 x2 y2; None where only the text is labelled
    text: str
    group: str  # e.g. "real/br", "synthetic/30-45", "ua_types/ua_1995" or "ua_parking/ua"
    regions: str = DEFAULT_REGIONS
    rows: int = 1  # printed rows of the plate
    # A real photo whose plate no train label shows: the sets are split photo by photo and one
    # car is on several frames, so some val plates were read in training from another frame.
    unseen: bool = False

    def keys(self) -> tuple[str, ...]:
        """The report's groups this case counts in (its set, its subgroup, two-row plates, real
        plates unseen in training, a one-row plate's width band)."""
        top = self.group.split("/")[0]
        band = self.width_band()
        return (
            top,
            self.group,
            *((f"{top}/two-row",) if self.rows > 1 else ()),
            *((f"{top}/unseen",) if self.unseen else ()),
            *((f"{top}/{band}",) if band else ()),
        )

    def width_band(self) -> str | None:
        """The `WIDTH_BANDS` suffix of a one-row plate's box width; None without a box, or for a
        plate of several rows (its width says less of its characters' size)."""
        if self.box is None or self.rows > 1:
            return None
        width = float(self.box[2] - self.box[0])
        return next(name for low, high, name in WIDTH_BANDS if low <= width < high)


Reader = Callable[[Case], list[tuple[np.ndarray, str]]]
Judge = Callable[[list[tuple[np.ndarray, str]], Case], bool]


# The seeds of the synthetic sets per split: `train` draws other plates, on train scenes.
SYNTHETIC_SEEDS = {"val": 7, "train": 98}
UA_TYPE_SEEDS = {"val": 2027, "train": 99}


def real_cases(data: Path, limit: int | None = None, split: str = "val") -> Iterator[Case]:
    records = [
        r for r in load_records(data, split, ("openalpr_endtoend",)) if r.texts and r.texts[0]
    ]
    seen = {score_key(t) for t in plate_texts(data, "train")} if split != "train" else set()
    for rec in records[: limit or None]:
        image, scale = read_rgb(rec.path, max_side=4096)
        region = rec.path.name.split("_")[1] if rec.path.name.count("_") >= 2 else "?"
        box = np.array(rec.boxes[0], np.float32) * scale
        regions = region if region in ("us", "br", "eu") else SYNTHETIC_REGIONS
        text = str(rec.texts[0])
        unseen = split != "train" and score_key(text) not in seen
        yield Case(image, box, text, f"real/{region}", regions, unseen=unseen)


def ua_parking_cases(data: Path) -> Iterator[Case]:
    """`ua_parking_val`: evaluation only (never trained on, never copied)."""
    labels = data / "ua_parking_val" / "labels.jsonl"
    if not labels.exists():
        return
    for line in labels.read_text().splitlines():
        row = json.loads(line)
        image, _ = read_rgb(labels.parent / row["image"], max_side=4096)
        yield Case(image, None, str(row["plates"][0]["text"]), "ua_parking/ua")


def synthetic_cases(data: Path, per_bucket: int, split: str = "val") -> Iterator[Case]:
    for s in angle_set(data, per_bucket, seed=SYNTHETIC_SEEDS[split], split=split):
        yield Case(s.image, s.box, s.text, f"synthetic/{s.bucket}", SYNTHETIC_REGIONS, s.rows)


def ua_type_cases(data: Path, per_type: int, split: str = "val") -> Iterator[Case]:
    """Synthetic photos of every Ukrainian plate type, yaw 0-60 degrees."""
    for s in ua_type_set(data, per_type, seed=UA_TYPE_SEEDS[split], split=split):
        yield Case(s.image, s.box, s.text, f"ua_types/{s.format}", DEFAULT_REGIONS, s.rows)


def ours(engines: dict[str, object]) -> Reader:
    """Our engine, loaded once per regions setting; each case is read with its own regions."""

    def run(case: Case) -> list[tuple[np.ndarray, str]]:
        result = engines[case.regions].recognize_batch([case.image])[0]  # type: ignore[attr-defined]
        return [(np.array(p.box, np.float32), p.text) for p in result.plates]

    return run


def rapidocr_peer() -> Reader:
    from rapidocr import RapidOCR

    peer = RapidOCR(params={"Global.log_level": "error"}) if _accepts_params() else RapidOCR()

    def run(case: Case) -> list[tuple[np.ndarray, str]]:
        out = peer(case.image[:, :, ::-1].copy())  # the peer takes BGR like OpenCV
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


def _is_label(box: np.ndarray, text: str, case: Case) -> bool:
    if case.box is None:
        return score_text(text) == score_text(case.text)
    return bool(box_iou(box[None], case.box[None])[0, 0] >= 0.5)


def judge_plate_reader(found: list[tuple[np.ndarray, str]], case: Case) -> bool:
    """Our output is one box + text per plate: the matched box must read exactly."""
    if case.box is None:
        return any(score_text(t) == score_text(case.text) for _, t in found)
    boxes = np.array([b for b, _ in found], np.float32).reshape(-1, 4)
    if not len(boxes):
        return False
    ious = box_iou(boxes, case.box[None])[:, 0]
    best = int(ious.argmax())
    return bool(ious[best] >= 0.5 and score_text(found[best][1]) == score_text(case.text))


def judge_text_lines(found: list[tuple[np.ndarray, str]], case: Case) -> bool:
    """A general OCR reports text lines, not plates: the lines whose centres fall inside the plate
    box are joined top to bottom, left to right (generous to the peer: no IoU on its boxes).
    Without a box (ua_parking_val), a hit is the text inside any line or inside all lines joined
    in reading order (generous again: a plate split over two text lines still counts)."""
    if case.box is None:
        target = score_text(case.text)
        ordered = sorted(found, key=lambda bt: (float(bt[0][1]), float(bt[0][0])))
        joined = score_text("".join(t for _, t in ordered))
        return target in joined or any(target in score_text(t) for _, t in found)
    x1, y1, x2, y2 = case.box
    inside = [
        (b, t) for b, t in found if x1 <= (b[0] + b[2]) / 2 <= x2 and y1 <= (b[1] + b[3]) / 2 <= y2
    ]
    inside.sort(key=lambda bt: (round(float(bt[0][1]) / max(y2 - y1, 1) * 2), float(bt[0][0])))
    joined = score_text("".join(t for _, t in inside))
    target = score_text(case.text)
    return bool(joined == target or any(score_text(t) == target for _, t in inside))


def run_benchmark(
    readers: dict[str, tuple[Reader, Judge]], cases: list[Case], plate_readers: set[str]
) -> dict[str, object]:
    """Accuracy and ms/photo per system and group; junk per photo for the plate readers (the
    generic OCR reports every text line, so junk means nothing for it), with each plate
    reader's misses (group, labelled text, texts and boxes reported, the case's index) to look
    into."""
    report: dict[str, object] = {}
    for name, (reader, judge) in readers.items():
        hits: dict[str, list[bool]] = {}
        junk: dict[str, list[int]] = {}
        misses: list[dict[str, object]] = []
        times: list[float] = []
        if cases:
            reader(cases[0])  # warm-up: lazy model builds are not per-photo cost
        for index, case in enumerate(tqdm(cases, desc=f"end-to-end {name}", unit="photo")):
            t0 = time.perf_counter()
            found = reader(case)
            times.append((time.perf_counter() - t0) * 1000)
            ok = judge(found, case)
            extra = sum(not _is_label(b, t, case) for b, t in found)
            if not ok:
                misses.append(
                    {
                        "group": case.group,
                        "want": case.text,
                        "got": [t for _, t in found],
                        "boxes": [[round(float(v), 1) for v in b] for b, _ in found],
                        "case": index,
                    }
                )
            for key in case.keys():
                hits.setdefault(key, []).append(ok)
                junk.setdefault(key, []).append(extra)
        report[name] = {
            "accuracy": {k: float(np.mean(v)) for k, v in sorted(hits.items())},
            "hits": {k: int(np.sum(v)) for k, v in sorted(hits.items())},
            "n": {k: len(v) for k, v in sorted(hits.items())},
            "ms_per_photo": {
                "p50": float(np.percentile(times, 50)),
                "p95": float(np.percentile(times, 95)),
            },
        }
        if name in plate_readers:
            report[name]["junk_per_photo"] = {k: float(np.mean(v)) for k, v in sorted(junk.items())}
            report[name]["misses"] = misses
    return report


def whole_plate_rate(engines, peer, cases: list[Case]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Share of labelled plates with an engine crop from which either reader reads all of it."""
    whole: dict[str, list[bool]] = {}
    for case in tqdm(cases, desc="whole plate", unit="photo"):
        engine = engines[case.regions]
        dets = engine.detect([case.image])[0]
        if case.box is not None:
            dets = [d for d in dets if _is_label(np.asarray(d.box, np.float32), "", case)]
        crops = [cut.crop for cut in engine.cuts(case.image, dets)]
        texts = [r.text for r in engine.reader.reader.read_batch(crops)] if crops else []
        texts += [t for t, _ in peer.read(crops)]
        ok = any(score_text(case.text) in score_text(t) for t in texts)
        for key in case.keys():
            whole.setdefault(key, []).append(ok)
    return {k: float(np.mean(v)) for k, v in sorted(whole.items())}


def get_args_parser() -> argparse.ArgumentParser:
    from recognition.pipeline.engine import DEFAULT_MODELS_DIR, SECOND_LOOK_BELOW

    p = argparse.ArgumentParser(prog="python -m recognition.evaluation e2e", description=__doc__)
    p.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    p.add_argument("--out", type=Path, default=Path("bench/out"))
    p.add_argument("--per-bucket", type=int, default=10, help="synthetic photos per yaw bucket")
    p.add_argument("--limit", type=int, default=None, help="first N real val photos only")
    p.add_argument(
        "--split",
        choices=("val", "train"),
        default="val",
        help="train: the real train photos and synthetic plates on train scenes (other seeds), "
        "without ua_parking_val; tune on it, report on val",
    )
    p.add_argument("--no-peer", action="store_true", help="skip the rapidocr whole-photo peer")
    p.add_argument("--no-ua", action="store_true", help="skip ua_parking_val")
    p.add_argument(
        "--per-type", type=int, default=20, help="synthetic photos per Ukrainian plate type"
    )
    p.add_argument(
        "--crop-pad",
        type=float,
        nargs=2,
        default=None,
        metavar=("X", "Y"),
        help="margin around the detected plate instead of the engine's CROP_PAD (to measure it)",
    )
    p.add_argument(
        "--second-look-below",
        type=float,
        default=SECOND_LOOK_BELOW,
        help="look again at photos with no plate read at this confidence (to measure it)",
    )
    p.add_argument("--no-second-look", action="store_true", help="one look only (to measure it)")
    p.add_argument(
        "--whole-plate-grow",
        type=float,
        default=None,
        help="how far a short crop may be lengthened instead of the engine's crop shape for its "
        "regions (0: off; to measure it)",
    )
    return p


def main(argv: list[str] | None = None) -> dict[str, object]:
    import torch

    from recognition.pipeline.engine import load_engine
    from recognition.pipeline.peer import RapidPeer

    args = get_args_parser().parse_args(argv)
    torch.set_num_threads(2)
    split = args.split
    cases = [
        *real_cases(args.data, args.limit, split),
        *synthetic_cases(args.data, args.per_bucket, split),
        *ua_type_cases(args.data, args.per_type, split),
    ]
    if not args.no_ua and split == "val":  # evaluation only: never a set to tune on
        cases += list(ua_parking_cases(args.data))
    regions = sorted({c.regions for c in cases})
    full = {r: load_engine(args.models, regions=r) for r in regions}  # as deployed by default
    peered = {r: load_engine(args.models, with_peer=True, regions=r) for r in regions}
    for engine in (*full.values(), *peered.values()):
        if args.crop_pad:
            engine.crop_pad = (args.crop_pad[0], args.crop_pad[1])
        if args.whole_plate_grow is not None:
            engine.crop_shape = dataclasses.replace(engine.crop_shape, grow=args.whole_plate_grow)
        engine.second_look = not args.no_second_look
        engine.second_look_below = args.second_look_below
    readers: dict[str, tuple[Reader, Judge]] = {
        "platecheck": (ours(full), judge_plate_reader),  # type: ignore[arg-type]
        "platecheck_with_peer": (ours(peered), judge_plate_reader),  # type: ignore[arg-type]
    }
    if not args.no_peer:
        readers["rapidocr_whole_photo"] = (rapidocr_peer(), judge_text_lines)
    report = run_benchmark(readers, cases, plate_readers={"platecheck", "platecheck_with_peer"})
    report["whole_plate"] = whole_plate_rate(full, RapidPeer(cache=True), cases)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "endtoend" if split == "val" else f"endtoend_{split}"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    systems = {k: v for k, v in report.items() if k != "whole_plate"}
    _plot(systems, args.out / f"{stem}_by_group.png")
    _print(report)
    sheet = args.out / f"{stem}_misses.png"
    drawn = miss_sheet(cases, report["platecheck"]["misses"], sheet)  # type: ignore[index]
    print(f"platecheck's misses drawn: {drawn} in {sheet} (ua_parking_val's never)")  # noqa: T201
    return report


def _print(report: dict) -> None:  # type: ignore[type-arg]
    lines = []
    for name, r in report.items():
        if name == "whole_plate":
            continue
        acc = "  ".join(
            f"{k} {v:.3f} ({r['hits'][k]}/{r['n'][k]})" for k, v in r["accuracy"].items()
        )
        ms = r["ms_per_photo"]
        lines.append(f"{name:24s} exact {acc}  ms/photo p50 {ms['p50']:.0f} p95 {ms['p95']:.0f}")
        if "junk_per_photo" in r:
            junk = "  ".join(f"{k} {v:.2f}" for k, v in r["junk_per_photo"].items() if "/" not in k)
            lines.append(f"{'':24s} junk per photo {junk}")
    whole = "  ".join(f"{k} {v:.3f}" for k, v in report["whole_plate"].items())
    lines.append(f"{'platecheck':24s} whole plate {whole}")
    print("\n".join(lines))  # noqa: T201


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
