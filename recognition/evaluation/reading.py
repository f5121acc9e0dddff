"""Benchmark of the plate reader on straightened crops (`python -m recognition.evaluation read`).

Sets: the real `val` crops of ../shared/datasets (openalpr US and BR crops, plates cut from the
end-to-end photos' boxes); the same without the plates that a train label shows too
(`real_unseen`: the sets are split photo by photo and one car's plate is on several frames, so a
reader trained on the train split has seen many val plates; this is the figure for plates it never
saw); and a fixed synthetic Ukrainian set in yaw buckets (the lead's `angle_set`: rendered plates
warped into val scenes, straightened back with the exact corners plus noise). Systems: our reader
with the format rules, its raw best path, the rapidocr recogniser on the same crops through the
same rules, and both combined. Scores map O->0 and I->1 on both sides.
Writes bench/out/read.json (each system's misses listed per set), PNG plots, and a contact
sheet of our reader's misread crops (`read_misses.png`).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognition.datasets import load_real_crops, plate_texts
from recognition.evaluation.metrics import edit_distance, score_key
from recognition.evaluation.miss_sheet import Tile, contact_sheet, miss_caption
from recognition.pipeline.engine import CombinedReader
from recognition.pipeline.format_hint import format_hint
from recognition.pipeline.ocr import OcrResult, PlateReader
from recognition.pipeline.peer import RapidPeer, peer_only
from recognition.pipeline.rectify import box_corners, rectify
from recognition.pipeline.regions import region_formats

log = logging.getLogger(__name__)

BATCH = 32  # crops per read_batch call when timing, about the plates of a batch of photos
CORNER_NOISE = 0.02  # corner error of the synthetic set, as a share of the plate's edge


@dataclass(frozen=True)
class Item:
    crop: np.ndarray
    truth: str
    group: str  # real: dataset source; synthetic: yaw bucket
    format: str  # ground-truth format (real: region us/br/eu)


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="plate reader benchmark", prog="python -m recognition.evaluation read"
    )
    p.add_argument("--data", default="../shared/datasets", type=Path)
    p.add_argument("--models", default="models", type=Path, help="holds detector/ and ocr/")
    p.add_argument("--out", default="bench/out", type=Path)
    p.add_argument("--per-bucket", default=40, type=int, help="synthetic plates per yaw bucket")
    p.add_argument("--no-peer", action="store_true", help="skip rapidocr and the combination")
    p.add_argument("--seed", default=2026, type=int)
    p.add_argument("--limit", default=0, type=int, help="use only N real crops (smoke runs)")
    return p


def real_items(data: Path) -> list[Item]:
    items = []
    for c in load_real_crops(data, "val", margin=0.04):
        h, w = c.image.shape[:2]
        crop = rectify(c.image, box_corners((0, 0, w, h)))  # the product's crop sizes
        items.append(Item(crop, c.text, c.source, c.region))
    return items


def unseen_in_train(items: Sequence[Item], data: Path) -> list[Item]:
    """The items whose plate no train label of the real sets shows (compared as scored)."""
    seen = {score_key(t) for t in plate_texts(data, "train")}
    return [i for i in items if score_key(i.truth) not in seen]


def benchmark_sets(data: Path, per_bucket: int, seed: int, limit: int = 0) -> dict[str, list[Item]]:
    """The sets every system reads: real val crops (`limit` of them, drawn by `seed`, where
    given), those of plates unseen in training, and the synthetic Ukrainian set."""
    real = real_items(data)
    if limit:
        real = random.Random(seed).sample(real, min(limit, len(real)))
    return {
        "real": real,
        "real_unseen": unseen_in_train(real, data),
        "synth_ua": synth_items(data, per_bucket, seed),
    }


def noisy_crop(image: np.ndarray, corners: Sequence, rng: np.random.Generator) -> np.ndarray:
    """The plate at `corners` straightened as a detector would give it: each corner moved by
    CORNER_NOISE of the plate's edge."""
    quad = np.asarray(corners, np.float32)
    edges = np.array([np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])])
    noise = rng.normal(0, CORNER_NOISE, (4, 2)).astype(np.float32) * edges
    return rectify(image, quad + noise)


def synth_items(data: Path, per_bucket: int, seed: int) -> list[Item]:
    from recognition.synth.angle_set import angle_set

    rng = np.random.default_rng(seed)
    return [
        Item(noisy_crop(s.image, s.corners, rng), s.text, s.bucket, s.format)
        for s in angle_set(data, per_bucket=per_bucket, seed=seed)
    ]


def timed(
    fn: Callable[[Sequence[np.ndarray]], list[OcrResult]], crops: list[np.ndarray]
) -> tuple[list[OcrResult], list[float]]:
    out: list[OcrResult] = []
    per_crop_ms = []
    for i in range(0, len(crops), BATCH):
        t0 = time.perf_counter()
        out += fn(crops[i : i + BATCH])
        per_crop_ms.append((time.perf_counter() - t0) * 1000 / len(crops[i : i + BATCH]))
    return out, per_crop_ms


def scores(items: Sequence[Item], texts: Sequence[str]) -> dict[str, float]:
    keys = [(score_key(t), score_key(i.truth)) for t, i in zip(texts, items, strict=True)]
    n = max(len(keys), 1)
    chars = max(sum(len(t) for _, t in keys), 1)
    return {
        "n": len(keys),
        "exact": round(sum(p == t for p, t in keys) / n, 4),
        "cer": round(sum(edit_distance(p, t) for p, t in keys) / chars, 4),
    }


def grouped(
    items: Sequence[Item], texts: Sequence[str], key: Callable[[Item], str]
) -> dict[str, dict[str, float]]:
    groups: dict[str, list[int]] = collections.defaultdict(list)
    for i, item in enumerate(items):
        groups[key(item)].append(i)
    return {
        g: scores([items[i] for i in idx], [texts[i] for i in idx])
        for g, idx in sorted(groups.items())
    }


def confusions(
    items: Sequence[Item], texts: Sequence[str], top: int = 25
) -> list[dict[str, object]]:
    """Character substitutions (truth -> read) where lengths agree, most frequent first."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for item, text in zip(items, texts, strict=True):
        if len(text) == len(item.truth):
            counts.update(
                (t, p)
                for t, p in zip(item.truth, text, strict=True)
                if score_key(t) != score_key(p)
            )
    return [{"truth": t, "read": p, "count": c} for (t, p), c in counts.most_common(top)]


# A system reads crops with the plate formats of the deployment's regions.
System = Callable[[Sequence[np.ndarray], Collection[str]], list[OcrResult]]


def shipped_combination(combined: CombinedReader) -> System:
    """The engine's `CombinedReader` as a system: every crop kept, read with the given formats."""

    def read(crops: Sequence[np.ndarray], formats: Collection[str]) -> list[OcrResult]:
        combined.formats = formats  # as `PlateEngine` sets its regions' formats
        results = combined.read_batch(crops)
        return [r for r in results if r is not None]  # no check here: every crop is read

    return read


def item_regions(item: Item) -> str:
    """The regions a deployment that sees this plate names: its own country's (the real sets
    are US, Brazilian and European crops; the synthetic set is Ukrainian)."""
    return item.format if item.format in ("us", "br", "eu") else "ua"


def read_by_region(fn: System, items: Sequence[Item]) -> tuple[list[OcrResult], list[float]]:
    """`fn` over the items, each group read with its own regions' formats, in input order."""
    results: list[OcrResult | None] = [None] * len(items)
    all_ms: list[float] = []
    for regions in sorted({item_regions(i) for i in items}):
        idx = [k for k, i in enumerate(items) if item_regions(i) == regions]
        formats = region_formats(regions)
        out, ms = timed(lambda crops, f=formats: fn(crops, f), [items[k].crop for k in idx])
        all_ms += ms
        for k, result in zip(idx, out, strict=True):
            results[k] = result
    return [r for r in results if r is not None], all_ms


def evaluate_system(name: str, fn: System, sets: dict[str, list[Item]]) -> dict:
    report: dict[str, object] = {}
    all_ms: list[float] = []
    for set_name, items in sets.items():
        results, ms = read_by_region(fn, items)
        all_ms += ms
        texts = [r.text for r in results]
        report[set_name] = {
            **scores(items, texts),
            "by_group": grouped(items, texts, lambda i: i.group),
            "by_format": grouped(items, texts, lambda i: i.format),
            "valid_share": round(sum(r.valid for r in results) / max(len(results), 1), 4),
            "confusions": confusions(items, texts),
            "misses": [
                {"index": k, "group": item.group, "truth": item.truth, "read": text}
                for k, (item, text) in enumerate(zip(items, texts, strict=True))
                if score_key(text) != score_key(item.truth)
            ],
        }
    report["ms_per_crop"] = {
        "p50": round(float(np.percentile(all_ms, 50)), 2),
        "p95": round(float(np.percentile(all_ms, 95)), 2),
    }
    log.warning(
        "%s: %s",
        name,
        json.dumps(
            {k: v.get("exact") for k, v in report.items() if isinstance(v, dict) and "exact" in v}
        ),
    )
    return report


def single_crop_latency(
    reader: PlateReader, items: Sequence[Item], n: int = 40
) -> dict[str, float]:
    ms = []
    for item in items[:n]:
        t0 = time.perf_counter()
        reader.read_batch([item.crop])
        ms.append((time.perf_counter() - t0) * 1000)
    return {
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p95": round(float(np.percentile(ms, 95)), 2),
    }


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, rep in report["systems"].items():
        groups = rep["synth_ua"]["by_group"]
        buckets = sorted(groups, key=lambda b: int(b.split("-")[0]))
        ax.plot(buckets, [groups[b]["exact"] for b in buckets], marker="o", label=name)
    ax.set_xlabel("yaw bucket (degrees)")
    ax.set_ylabel("exact plate accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("Synthetic Ukrainian plates, straightened crops")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "read_by_yaw.png", dpi=120)
    plt.close(fig)

    conf = report["systems"]["platereader"]["real"]["confusions"][:15]
    if conf:
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.barh(
            [f"{c['truth']}->{c['read']}" for c in conf][::-1], [c["count"] for c in conf][::-1]
        )
        ax.set_title("Most frequent character confusions (real val, our reader)")
        fig.tight_layout()
        fig.savefig(out / "read_confusions.png", dpi=120)
        plt.close(fig)


# The sets whose misreads are drawn (`real_unseen` is part of `real`).
DRAWN_SETS = ("real", "synth_ua")


def misread_sheet(sets: dict[str, list[Item]], system: dict, path: Path) -> int:  # type: ignore[type-arg]
    """A system's misread crops of DRAWN_SETS, each with its label and reading, in one PNG."""
    tiles = [
        Tile(
            sets[name][m["index"]].crop,
            caption=miss_caption(f"{name}/{m['group']}", m["truth"], [m["read"]]),
        )
        for name in DRAWN_SETS
        if name in sets
        for m in system[name]["misses"]
    ]
    return contact_sheet(tiles, path)


def reader_systems(reader: PlateReader, peer: RapidPeer | None) -> dict[str, System]:
    """The systems measured: our reader, its raw best path and, with a peer, rapidocr alone and
    the engine's own combination (`CombinedReader`, the path that ships)."""

    def raw(crops: Sequence[np.ndarray], formats: Collection[str]) -> list[OcrResult]:
        # The best path alone, no format rules: what the rules add is the difference.
        return [
            OcrResult(r.text, "unknown", r.score, (), (), (r.text,))
            for r in reader.read_lines(list(crops))
        ]

    systems: dict[str, System] = {"platereader": reader.read_batch, "platereader_raw": raw}
    if peer is None:
        return systems
    # Shared reads: rapidocr alone runs first and pays for them; the combinations then reuse
    # them, so their ms are ours plus the peer's ms measured alone (see "note").
    systems["rapidocr"] = lambda crops, formats: peer_only(
        peer, crops, [format_hint(c) for c in crops], formats
    )
    # "combined" asks the peer about every crop; "combined_fallback" only about those below the
    # engine's CONSULT_PEER_BELOW, exactly as the engine does.
    systems["combined"] = shipped_combination(CombinedReader(reader, peer, consult_below=1.0))
    systems["combined_fallback"] = shipped_combination(CombinedReader(reader, peer))
    return systems


def main(argv: list[str] | None = None) -> dict:
    args = get_args_parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    random.seed(args.seed)
    reader = PlateReader.load(args.models / "ocr")
    sets = benchmark_sets(args.data, args.per_bucket, args.seed, args.limit)
    reader.read_batch([sets["real"][0].crop])  # build EasyOCR before timing

    peer = None if args.no_peer else RapidPeer(cache=True)
    systems = reader_systems(reader, peer)
    report = {
        "reader_version": reader.version,
        "sets": {k: len(v) for k, v in sets.items()},
        "systems": {name: evaluate_system(name, fn, sets) for name, fn in systems.items()},
        "single_crop_ms": single_crop_latency(reader, sets["real"]),
        "note": (
            "exact: whole plate right after O->0 and I->1; real_unseen: the real val crops "
            "whose plate no train label shows; ms per crop in batches of 32; "
            "combined ms reuse the peer reads cached by the rapidocr run: add rapidocr ms"
        ),
    }
    (args.out / "read.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, args.out)
    drawn = misread_sheet(sets, report["systems"]["platereader"], args.out / "read_misses.png")
    log.warning("our reader's misreads drawn: %d in %s", drawn, args.out / "read_misses.png")
    log.warning("wrote %s", args.out / "read.json")
    return report


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
