"""The shipped reader on synthetic crops of every Ukrainian plate type: exact reads per type.

    .venv/bin/python bench/ua_types_read.py [--per-type 30] [--seed 3] [--models models]

Crops come from `recognition.synth.crops.seen_crop` (rendered, seen at yaw up to 65 degrees,
degraded, straightened with noisy corners): the reader's input without the detector. They are
read through `PlateReader.read_batch` with the formats of region `ua` (our reader alone, no
rapidocr peer). A read is exact when the text and the row order are right; "two-row" sums the
plates of several rows.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm import tqdm  # noqa: E402

from recognition.pipeline.ocr import PlateReader  # noqa: E402
from recognition.pipeline.regions import region_formats  # noqa: E402
from recognition.synth.crops import seen_crop  # noqa: E402
from recognition.synth.plates import MULTI_ROW, UA_TYPES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=30)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--models", type=Path, default=Path("models"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    reader = PlateReader.load(args.models / "ocr")
    formats = region_formats("ua")
    rows_total = rows_exact = 0
    print(f"reader {reader.version}; {args.per_type} crops per type")  # noqa: T201
    for fmt in UA_TYPES:
        rng = random.Random(args.seed)
        samples = [seen_crop(fmt, rng) for _ in range(args.per_type)]
        results = []
        for k in tqdm(range(0, len(samples), 16), desc=fmt, leave=False):
            results += reader.read_batch([c for c, _ in samples[k : k + 16]], formats)
        exact = sum(r.text == p.text for r, (_, p) in zip(results, samples, strict=True))
        valid = sum(r.valid for r in results)
        if fmt in MULTI_ROW:
            rows_total, rows_exact = rows_total + len(samples), rows_exact + exact
        print(  # noqa: T201
            f"{fmt:15s} exact {exact}/{len(samples)} = {exact / len(samples):.3f}"
            f"  valid {valid / len(samples):.3f}"
        )
    print(f"two-row        exact {rows_exact}/{rows_total} = {rows_exact / rows_total:.3f}")  # noqa: T201


if __name__ == "__main__":
    main()
