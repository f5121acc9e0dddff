"""Time of comparing two engine versions on the photos both read (`/ops/models/compare/`), on
PostgreSQL, with a night's re-read in the database.

    .venv/bin/python bench/version_compare.py [--photos 100000] [--runs 5] [--keepdb]

Works in a throw-away test database (created with migrations, dropped at the end unless
--keepdb), filled with bulk_create: each photo read by both versions, 0-2 plates each, most
plates read alike, some read otherwise, lost or gained. Prints each run's time and the median,
for the page's default (the latest 20,000 photos) and for every photo.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.django_bench import bench_database, read_photos, say, setup  # noqa: E402

setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from recognition.models import PhotoRead, Reading  # noqa: E402
from recognition.version_compare import COMPARE_PHOTOS, versions_compare  # noqa: E402
from webapp.listings.models import Photo  # noqa: E402

BENCH_DB = "platecheck_compare_bench"
BASE, CANDIDATE = "det-a+ocr-a", "det-b+ocr-b"


def fill(photos: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    now = timezone.now()
    for rows in read_photos(photos, version=CANDIDATE):
        reads, readings = [], []
        for photo in rows:
            plates = [f"AA{rnd.randrange(10_000):04d}BB" for _ in range(rnd.choice([0, 1, 1, 2]))]
            for version in (BASE, CANDIDATE):
                seen = plates if rnd.random() < 0.9 else plates[:-1] + ["KA0101AM"]
                reads.append(PhotoRead(photo=photo, model_version=version, plates=len(seen),
                                       read_at=now))  # fmt: skip
                for k, text in enumerate(seen):
                    x = 200.0 * k
                    readings.append(Reading(
                        photo=photo, model_version=version, plate_text=text, confidence=0.9,
                        corners=[[x, 0], [x + 80, 0], [x + 80, 20], [x, 20]],
                        box=[x, 0, x + 80, 20],
                    ))  # fmt: skip
        PhotoRead.objects.bulk_create(reads)
        Reading.objects.bulk_create(readings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keepdb", action="store_true", help="reuse / keep the bench database")
    args = parser.parse_args()
    with bench_database(BENCH_DB, keepdb=args.keepdb):
        if not PhotoRead.objects.exists():
            fill(args.photos)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        say(f"{Photo.objects.count()} photos, {Reading.objects.count()} readings")
        for photos in (COMPARE_PHOTOS, args.photos):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                c = versions_compare(base=BASE, candidate=CANDIDATE, photos=photos)
                times.append(time.perf_counter() - started)
            say(
                f"compare {c.photos} photos: " + " / ".join(f"{t:.2f}" for t in times)
                + f" s, median {statistics.median(times):.2f} s "
                f"(same {c.same}, changed {c.changed}, lost {c.lost}, gained {c.gained})"
            )  # fmt: skip


if __name__ == "__main__":
    main()
