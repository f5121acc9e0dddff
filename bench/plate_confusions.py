"""Which characters the shipped reader mistakes for which, on the plate search's confusion keys.

    .venv/bin/python bench/plate_confusions.py [--per-bucket 600] [--per-type 300]

The plates are rendered afresh on the training split's scenes (`angle_set` at yaw 0-75 and
`ua_type_set`, every Ukrainian type; seeds used nowhere else), so the reader has seen neither
the plates nor these photos. Each is cut with the synthetic sets' corner noise and read through
`PlateReader.read_batch` with the formats of regions `ua,eu`. Truth and reading are folded onto
the search's confusion key (`webapp.review.plates.plate_key`: `B` and `8` are already one
character), aligned (`Levenshtein.editops`), and each substitution counted as an unordered pair.

It prints the substitutions, insertions and deletions, every pair's count and share of the
substitutions, and the pairs at `--min-share` or more: the search's `NEAR_LOOK_ALIKES`.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402
from tqdm import tqdm  # noqa: E402

from recognition.evaluation.reading import noisy_crop  # noqa: E402
from recognition.pipeline.ocr import PlateReader  # noqa: E402
from recognition.pipeline.regions import region_formats  # noqa: E402
from recognition.synth.angle_set import angle_set, ua_type_set  # noqa: E402
from webapp.review.plates import alnum, plate_key  # noqa: E402

BATCH = 32


def _key(text: str) -> str:
    return plate_key(alnum(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--per-bucket", type=int, default=600)
    parser.add_argument("--per-type", type=int, default=300)
    parser.add_argument("--min-share", type=float, default=0.02)
    args = parser.parse_args()

    reader = PlateReader.load(args.models / "ocr")
    formats = region_formats("ua,eu")
    samples = [
        *angle_set(args.data, per_bucket=args.per_bucket, seed=31337, split="train"),
        *ua_type_set(args.data, per_type=args.per_type, seed=31338, split="train"),
    ]
    rng = np.random.default_rng(5)
    pairs: collections.Counter[str] = collections.Counter()
    ops: collections.Counter[str] = collections.Counter()
    wrong = 0
    for start in tqdm(range(0, len(samples), BATCH), desc="reading", unit="batch"):
        batch = samples[start : start + BATCH]
        crops = [noisy_crop(sample.image, sample.corners, rng) for sample in batch]
        for sample, result in zip(batch, reader.read_batch(crops, formats), strict=True):
            truth, read = _key(sample.text), _key(result.text)
            if truth == read:
                continue
            wrong += 1
            for op, i, j in Levenshtein.editops(truth, read):
                ops[op] += 1
                if op == "replace":
                    pairs["".join(sorted((truth[i], read[j])))] += 1

    substitutions = max(ops["replace"], 1)
    print(f"reader {reader.version}: {len(samples)} plates, {wrong} read wrong")  # noqa: T201
    print(  # noqa: T201
        f"edits: {ops['replace']} substitutions, {ops['delete']} characters missing, "
        f"{ops['insert']} extra"
    )
    for pair, count in pairs.most_common():
        print(f"  {pair[0]}<->{pair[1]}  {count:4d}  {count / substitutions:.4f}")  # noqa: T201
    near = sorted(p for p, c in pairs.items() if c / substitutions >= args.min_share)
    print(f"pairs at {args.min_share:.0%} of the substitutions or more: {' '.join(near)}")  # noqa: T201


if __name__ == "__main__":
    main()
