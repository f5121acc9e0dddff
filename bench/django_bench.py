"""What the benchmarks that fill a database of their own share: Django set up against
PostgreSQL (`DATABASE_URL`, the project's local database by default; a throw-away `SECRET_KEY`,
as they run with DEBUG off, which refuses to start without one), and that database.

    from bench.django_bench import bench_database, say, setup
    setup()  # before any model is imported
    with bench_database("platecheck_x_bench", keepdb=args.keepdb) as name:
        for photos in read_photos(100_000, version="det-a+ocr-a"):
            ...  # each batch's readings

The database is created with the migrations under its own name, so a benchmark never collides
with a test run's `test_platecheck*`, and dropped at the end unless `keepdb`. Without `keepdb`,
one left by an earlier `--keepdb` run is the benchmark's own and is replaced without asking.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

LOCAL_DATABASE = "postgres://platecheck:platecheck@127.0.0.1:5432/platecheck"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DATABASE_URL", LOCAL_DATABASE)
    import django

    django.setup()


@contextmanager
def bench_database(name: str, *, keepdb: bool, **options: Any) -> Iterator[str]:
    """The benchmark's database, created (or kept from an earlier run with `keepdb`) and made
    Django's connection; `options` go to `create_test_db` (e.g. `serialize=False`)."""
    from django.db import connection

    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    options = {"verbosity": 0, "autoclobber": not keepdb, "keepdb": keepdb, **options}
    created = connection.creation.create_test_db(**options)
    try:
        yield created
    finally:
        if not keepdb:
            connection.creation.destroy_test_db(created, verbosity=0)


# Rows written per bulk_create.
BATCH = 5000


def read_photos(count: int, *, version: str, batch: int = BATCH) -> Iterator[list[Any]]:
    """`count` photos read by `version` (status done; four to a listing), created in batches
    (with a progress bar); each batch is yielded once written, for the caller's readings."""
    from tqdm import tqdm

    from webapp.listings.models import Listing, Photo

    listings = Listing.objects.bulk_create(
        [Listing(marketplace_id=f"MP-{i}") for i in range(count // 4 + 1)], batch_size=batch
    )
    for start in tqdm(range(0, count, batch), desc="rows", unit_scale=batch):
        yield Photo.objects.bulk_create(
            [
                Photo(
                    listing=listings[i // 4],
                    sha256=f"{i:064d}",
                    width=1280,
                    height=960,
                    status=Photo.Status.DONE,
                    model_version=version,
                )  # fmt: skip
                for i in range(start, min(start + batch, count))
            ]
        )


def register_fill(
    rows: Iterable[tuple[str, str, date]],
    *,
    model: str = "BENCH",
    colour: str = "СІРИЙ",
    operation: str = "ПЕРЕРЕЄСТРАЦІЯ",
    batch: int = BATCH,
) -> None:
    """Register records (plate, brand, day of the operation), one finished import run's."""
    from registry.models import ImportRun, RegisterRecord

    run = ImportRun.objects.create(
        file_name="bench.csv", file_sha256="0" * 64, status=ImportRun.Status.DONE
    )
    RegisterRecord.objects.bulk_create(
        [
            RegisterRecord(
                plate=plate,
                plate_latin=plate,
                brand=brand,
                model=model,
                colour=colour,
                make_year=2015,
                d_reg=day,
                oper_name=operation,
                import_run=run,
                line=line,
                row_hash=uuid.uuid4(),
            )  # fmt: skip
            for line, (plate, brand, day) in enumerate(rows)
        ],
        batch_size=batch,
    )


def pct(values: list[float], q: int) -> float:
    """The q-th percentile of `values` (inclusive: the largest value is the 100th)."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
