"""Time of summarising what moderators corrected (`/ops/models/corrections/`), on PostgreSQL,
with a long history of corrections in the database.

    .venv/bin/python bench/corrections_summary.py [--photos 100000] [--corrected 20000] [--runs 5]

Works in a throw-away test database (created with migrations, dropped at the end unless
--keepdb), filled with bulk_create: each photo read once with one plate; `--corrected` of those
readings typed over by a moderator (a character read otherwise, or one left out at an end), and
one photo in ten of those with a plate typed where the engine reported none. Prints each run's
time and the median, for the page's default (the latest 10,000 typed plates) and for every one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.django_bench import BATCH, bench_database, read_photos, say, setup  # noqa: E402

setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from recognition.corrections import SUMMARY_CORRECTIONS, corrections_summary  # noqa: E402
from recognition.models import PhotoRead, Reading  # noqa: E402
from webapp.listings.models import Photo  # noqa: E402

BENCH_DB = "platecheck_corrections_bench"
VERSION = "det-a+ocr-a"


def fill(photos: int, corrected: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    now = timezone.now()
    typed_every = max(1, photos // max(corrected, 1))
    for start, rows in zip(
        range(0, photos, BATCH), read_photos(photos, version=VERSION, batch=BATCH), strict=True
    ):
        PhotoRead.objects.bulk_create(
            [PhotoRead(photo=p, model_version=VERSION, plates=1, read_at=now) for p in rows]
        )
        corners = [[100.0, 50.0], [180.0, 50.0], [180.0, 70.0], [100.0, 70.0]]
        engine, human = [], []
        for k, photo in enumerate(rows, start=start):
            plate = f"AA{rnd.randrange(10_000):04d}BB"
            read = plate[:-1] + "8" if rnd.random() < 0.5 else plate[:-1]
            engine.append(Reading(photo=photo, model_version=VERSION, plate_text=read,
                                  plate_format="ua_2015", confidence=0.9, corners=corners,
                                  box=[100.0, 50.0, 180.0, 70.0]))  # fmt: skip
            if k % typed_every == 0:
                placed = (k // typed_every) % 10 != 0  # one in ten typed without a place
                human.append(Reading(photo=photo, model_version="human", plate_text=plate,
                                     source=Reading.Source.HUMAN, confidence=1.0,
                                     corners=corners if placed else []))  # fmt: skip
        Reading.objects.bulk_create(engine)
        Reading.objects.bulk_create(human)  # made after the engine's, as a moderator's are


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--corrected", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keepdb", action="store_true", help="reuse / keep the bench database")
    args = parser.parse_args()
    with bench_database(BENCH_DB, keepdb=args.keepdb):
        if not PhotoRead.objects.exists():
            fill(args.photos, args.corrected)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        typed = Reading.objects.filter(source=Reading.Source.HUMAN).count()
        say(f"{Photo.objects.count()} photos, {typed} plates typed by moderators")
        for limit in (SUMMARY_CORRECTIONS, typed):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                summary = corrections_summary(limit=limit)
                times.append(time.perf_counter() - started)
            (v,) = summary.versions
            say(
                f"summarise the latest {limit} typed plates: "
                + " / ".join(f"{t:.2f}" for t in times)
                + f" s, median {statistics.median(times):.2f} s ({v.corrections} corrections, "
                f"{v.unreported} unreported, mix-ups {v.top_substitutions(2)})"
            )  # fmt: skip


if __name__ == "__main__":
    main()
