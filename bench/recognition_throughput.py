"""Throughput of the whole recognition engine on this CPU, as the nightly backlog job runs it.

    python bench/recognition_throughput.py [--photos 40] [--batch-size 1 4] [--threads 2]
        [--repeats 3]

Photos are real val scenes with a synthetic Ukrainian plate pasted in (the fixed angle set), so
every photo has at least one plate to read. Prints ms/photo (p50, p95) per stage and photos/s per
batch size, each the median of --repeats runs.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recognition.pipeline.engine import load_engine  # noqa: E402
from recognition.synth.angle_set import YAW_BUCKETS, angle_set  # noqa: E402

BACKLOG_PER_DAY = 100_000  # listing photos a day, the marketplace's volume


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--photos", type=int, default=40)
    p.add_argument("--batch-size", type=int, nargs="+", default=[1, 4])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    engine = load_engine()
    # Every yaw bucket, 0-15 to 60-75 degrees, in turn (the set is drawn bucket by bucket).
    per_bucket = max(1, math.ceil(args.photos / len(YAW_BUCKETS)))
    by_bucket: dict[str, list[np.ndarray]] = {}
    for s in angle_set(args.data, per_bucket, seed=11):
        by_bucket.setdefault(s.bucket, []).append(s.image)
    photos = [im for turn in zip(*by_bucket.values(), strict=True) for im in turn][: args.photos]
    engine.recognize_batch(photos[:1])  # warm-up: first call allocates
    print(f"engine {engine.version}; {len(photos)} photos; {args.threads} threads")  # noqa: T201
    for batch in args.batch_size:
        rates, per_photo, stages = [], [], {}
        for _ in range(args.repeats):
            start = time.perf_counter()
            for i in range(0, len(photos), batch):
                t0 = time.perf_counter()
                results = engine.recognize_batch(photos[i : i + batch])
                per_photo.append((time.perf_counter() - t0) * 1000 / len(results))
                for r in results:
                    for k, v in r.timings_ms.items():
                        stages.setdefault(k, []).append(v)
            rates.append(len(photos) / (time.perf_counter() - start))
        rate = statistics.median(rates)
        stage_txt = "  ".join(f"{k} {np.percentile(v, 50):.0f}" for k, v in stages.items())
        print(  # noqa: T201
            f"batch {batch}: {rate:.2f} photos/s (median of {args.repeats}), "
            f"ms/photo p50 {np.percentile(per_photo, 50):.0f} "
            f"p95 {np.percentile(per_photo, 95):.0f}; "
            f"stages p50 ms: {stage_txt}; one worker reads "
            f"{rate * 86400 / BACKLOG_PER_DAY:.2f} days of photos per day"
        )


if __name__ == "__main__":
    main()
