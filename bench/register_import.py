"""Register import benchmark on PostgreSQL: throughput, memory, re-import, lookups, cross-check.

Runs against its own database (default ``platecheck_bench``, created and migrated if missing)
and empties the register tables there first, so never point it at a database you care about.

    .venv/bin/python bench/register_generate.py --rows 500000 --formats dmy2
    .venv/bin/python bench/register_import.py var/bench/register/register_2024_dmy2_500000.csv
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

BENCH_DB_URL = "postgres://platecheck:platecheck@127.0.0.1:5432/platecheck_bench"


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", BENCH_DB_URL)
    )
    parser.add_argument("--lookups", type=int, default=2000, help="plate lookups to time")
    parser.add_argument("--listings", type=int, default=300, help="listings to cross-check")
    parser.add_argument("--keep", action="store_true", help="do not empty the register first")
    parser.add_argument(
        "--imports-only", action="store_true", help="skip the lookup and cross-check parts"
    )
    parser.add_argument(
        "--unlogged",
        action="store_true",
        help="make the register table UNLOGGED first (to measure what WAL costs)",
    )
    return parser


def setup_django(database_url: str) -> None:
    name = database_url.rsplit("/", 1)[-1]
    if "bench" not in name:
        sys.exit(f"refusing to run on {name!r}: the bench empties tables; use a *bench* database")
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    # A throw-away key: the benchmark runs with DEBUG off, which refuses to start without one.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("CELERY_BROKER_URL", "")  # eager tasks: no worker needed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import psycopg

    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_cpu_seconds(pid: int) -> float | None:
    try:
        values = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(values[11]) + int(values[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class BackendCpu:
    """CPU seconds of this bench's own PostgreSQL backends (the other sessions on this shared
    machine also use PostgreSQL, so a machine-wide figure would not be ours).

    Polls the bench database's backends from a thread and keeps each one's last reading, so
    the merge connection that closes at the end of an import is still counted. WAL writer and
    checkpointer work caused by the import, and autovacuum, are not included.
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psycopg

        url = os.environ["DATABASE_URL"]
        with psycopg.connect(url, autocommit=True) as conn:
            own = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            while not self._stop.wait(0.2):
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s"
                    # the parallel workers that type the rows live a second or two: polled too
                    " AND backend_type IN ('client backend', 'parallel worker')",
                    [self.database, own],
                ).fetchall()
                for (pid,) in pids:
                    cpu = _proc_cpu_seconds(pid)
                    if cpu is not None:
                        self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))

    def start(self) -> None:
        self._thread.start()

    def total(self) -> float:
        time.sleep(0.3)  # one more poll
        return sum(self.seen.values())


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_import(path: Path, *, force: bool, backends: BackendCpu) -> tuple[object, float, float]:
    """The run, its wall seconds, and the CPU seconds it took (importer and its backends)."""
    from registry.services import register_import

    cpu, pg_cpu = own_cpu_seconds(), backends.total()
    started = time.perf_counter()
    run = register_import(path=path, force=force, progress=False, enqueue_crosscheck=False)
    seconds = time.perf_counter() - started
    cpu, pg_cpu = own_cpu_seconds() - cpu, backends.total() - pg_cpu
    rows = max(run.rows_read, 1)
    say(
        f"  CPU: importer {cpu:.1f}s ({cpu / rows * 1e6:.1f} us/row),"
        f" its PostgreSQL backends {pg_cpu:.1f}s ({pg_cpu / rows * 1e6:.1f} us/row);"
        f" wall {seconds:.1f}s, load {os.getloadavg()[0]:.1f}"
    )
    return run, seconds, cpu + pg_cpu


def raw_copy_rows_per_s(path: Path) -> tuple[int, float]:
    """The floor to compare with: PostgreSQL's own COPY of the same bytes into a plain table
    of text columns (logged, no indexes, no checks), in one transaction, then dropped."""
    from django.db import connection, transaction

    from registry.importers import open_register

    [source] = open_register(path)
    columns = ", ".join(f"c{i} text" for i in range(len(source.columns)))
    encoding = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1251": "WIN1251"}[source.encoding]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_raw_copy ({columns})")
        sql = (
            "COPY bench_raw_copy FROM STDIN"
            f" (FORMAT csv, DELIMITER ';', HEADER true, ENCODING '{encoding}')"
        )
        with path.open("rb") as stream, cursor.cursor.copy(sql) as copy:
            while chunk := stream.read(1 << 20):
                copy.write(chunk)
        rows = cursor.cursor.rowcount
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw_copy")
    return rows, seconds


def insert_floor(raw_seconds: float | None = None, budget: float | None = None) -> None:
    """What merging already-typed rows into the register costs, with no checks or parsing at
    all, the register's rows copied into an empty table like it: INSERTed into a table with
    none of its indexes, and into one with all of them kept live (the old one-table design: no
    import that keeps them live can beat it). Last, the least any import could do: the rows
    arriving typed by binary COPY into an import's table, which is then attached as the import's
    partition, its indexes built in bulk (what each import does). With `raw_seconds` (raw COPY
    of the file, this run) and `budget` (the seconds a third of its speed allows), the least of
    either design beside the budget. Rolled back."""
    from django.db import connection, transaction

    from registry.models import RegisterRecord

    table = RegisterRecord._meta.db_table
    # Every column the rows carry (the generated plate key is the database's to compute).
    names = ", ".join(f.column for f in RegisterRecord._meta.concrete_fields if not f.generated)
    inserted: dict[str, float] = {}  # seconds, by the indexes the table had
    for label, including in (("no indexes", "DEFAULTS"), ("the register's indexes", "ALL")):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE bench_floor (LIKE {table} INCLUDING {including})")
            started = time.perf_counter()
            cursor.execute(f"INSERT INTO bench_floor ({names}) SELECT {names} FROM {table}")
            rows = cursor.rowcount
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        inserted[label] = seconds
        say(
            f"  floor: INSERT of {rows:,} typed register rows into a table with {label} live:"
            f" {seconds:.1f}s = {rows / seconds:,.0f} rows/s"
        )
    # The least any import design could do with these rows, as run 0 (no run has that id): the
    # rows arrive already typed, in PostgreSQL's binary COPY format (parsed, checked and
    # normalised by nobody), go into an import's own table, and are attached as the product's
    # finishing step does (the register's indexes built on them in bulk).
    from registry import loaders, partitions

    columns = [
        f.column
        for f in RegisterRecord._meta.concrete_fields
        if f.column != "import_run_id" and not f.generated
    ]
    names = ", ".join(columns)
    typed = bytearray()
    with connection.cursor() as cursor:
        out = f"COPY (SELECT {names}, 0::bigint FROM {table}) TO STDOUT (FORMAT binary)"
        with cursor.cursor.copy(out) as copy:
            for data in copy:
                typed += data
    with transaction.atomic(), connection.cursor() as cursor:
        loaders.prepare(cursor)
        partitions.create(cursor, 0)
        part = partitions.name(0)
        started = time.perf_counter()
        sql = f"COPY {part} ({names}, import_run_id) FROM STDIN (FORMAT binary)"
        with cursor.cursor.copy(sql) as copy:
            view = memoryview(typed)
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset : offset + (1 << 20)])
        copied = time.perf_counter()
        partitions.attach(cursor, 0)
        attached = time.perf_counter()
        transaction.set_rollback(True)
    copy_in, attach = copied - started, attached - copied
    say(
        f"  floor: the same rows arriving typed, by binary COPY into an import's table:"
        f" {copy_in:.1f}s, then attached (the register's indexes built on them, as"
        f" `partitions.attach` does): {attach:.1f}s"
    )
    if raw_seconds and budget:
        staged = raw_seconds + inserted["no indexes"] + attach
        say(
            f"  the least an import can take here, no row parsed, checked or normalised:"
            f" typed rows by binary COPY + attach {copy_in + attach:.1f}s; staged as the issue"
            f" asks, raw COPY + INSERT of the typed rows + attach"
            f" {staged:.1f}s; a third of raw COPY allows {budget:.1f}s"
        )


def drop_run_partitions() -> None:
    """The partitions earlier bench runs left (their runs are gone with the TRUNCATE)."""
    from django.db import connection

    from registry import partitions

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND c.relname LIKE %s",
            [partitions.TABLE, f"{partitions.TABLE}_run_%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE {name}")


def clean_copy(path: Path) -> Path:
    """The file without the lines PostgreSQL's COPY refuses (those the importer sends to
    Python), written next to the bench output, for the raw COPY figure."""
    from registry.copy_input import copy_lines
    from registry.importers import open_register

    [source] = open_register(path)
    out = Path("/tmp") / f"{path.stem}.copyable.csv"
    with out.open("wb") as handle:
        with path.open("rb") as stream:
            handle.write(stream.readline().rstrip(b"\r\n") + b"\n")
        copy_lines(source, handle.write)
    # copy_lines prefixes each line with its number: strip it back off
    text = out.read_bytes().split(b"\n")
    header, body = text[0], [line.split(b";", 1)[1] for line in text[1:] if line]
    out.write_bytes(b"\n".join([header, *body]) + b"\n")
    return out


def bench_imports(files: list[Path], backends: BackendCpu) -> None:
    from registry.models import RegisterRecord

    for path in files:
        before = RegisterRecord.objects.count()
        try:
            raw_rows, raw_seconds = raw_copy_rows_per_s(path)
        except Exception as exc:  # a file with broken lines: COPY refuses it whole
            say(f"raw COPY of {path.name} refused ({str(exc).splitlines()[0]});")
            clean = clean_copy(path)
            raw_rows, raw_seconds = raw_copy_rows_per_s(clean)
            say(f"  so raw COPY is timed on its lines COPY accepts ({clean})")
        run, seconds, cpu = timed_import(path, force=True, backends=backends)
        ours = run.rows_read / seconds
        say(
            f"import {path.name}: {run.rows_read:,} rows ({run.rows_inserted:,} new,"
            f" {run.rows_duplicate:,} duplicates, {run.rows_rejected:,} rejected)"
            f" in {seconds:.1f}s = {ours:,.0f} rows/s;"
            f" peak RSS {peak_rss_mb():.0f} MB"
        )
        budget = None
        if raw_seconds:
            raw = raw_rows / raw_seconds
            say(
                f"raw COPY of the same file, same run: {raw_rows:,} rows in {raw_seconds:.1f}s ="
                f" {raw:,.0f} rows/s; import / raw COPY = {ours / raw:.2f}"
            )
            # A third of COPY's speed is this much wall time for the import's rows. The CPU the
            # import spent, spread perfectly over every core, is a floor under its wall time.
            budget = 3 * raw_seconds * run.rows_read / max(raw_rows, 1)
            cores = os.cpu_count() or 1
            say(
                f"  a third of COPY allows {budget:.1f}s; the import's CPU ({cpu:.1f}s, polled:"
                f" a floor) over {cores} cores needs at least {cpu / cores:.1f}s of wall"
            )
        assert RegisterRecord.objects.count() == before + run.rows_inserted
        insert_floor(raw_seconds, budget)
        count = RegisterRecord.objects.count()
        run2, seconds2, _ = timed_import(path, force=True, backends=backends)
        changed = RegisterRecord.objects.count() - count
        say(
            f"re-import (forced, parsed again): {run2.rows_inserted:,} new,"
            f" {changed:,} rows changed,"
            f" {seconds2:.1f}s = {run2.rows_read / seconds2:,.0f} rows/s ({seconds / seconds2:.2f}x"
            f" the first); peak RSS {peak_rss_mb():.0f} MB"
        )
        run3, seconds3, _ = timed_import(path, force=False, backends=backends)
        say(f"re-import (same sha256, skipped): {seconds3:.2f}s, status {run3.status}")


def bench_lookups(count: int) -> None:
    from recognition.pipeline.regions import normalise_plate
    from registry.models import RegisterRecord
    from registry.selectors import register_current_for_plate

    total = RegisterRecord.objects.count()
    rng = random.Random(7)
    ids = [rng.randrange(1, max(total, 2)) for _ in range(count)]
    start_id = RegisterRecord.objects.order_by("id").values_list("id", flat=True).first() or 0
    plates = list(
        RegisterRecord.objects.filter(id__in=[start_id + i for i in ids])
        .exclude(plate_latin="")
        .values_list("plate", flat=True)
    )
    plates += [f"ZZ{rng.randrange(10000):04d}ZZ" for _ in range(count // 10)]  # misses
    rng.shuffle(plates)
    timings = []
    for plate in plates:
        started = time.perf_counter()
        register_current_for_plate(plate=plate)
        timings.append((time.perf_counter() - started) * 1000)
    say(
        f"plate lookup, selector register_current_for_plate, {len(timings):,} plates"
        f" over {total:,} rows:"
        f" {_pcts(timings)}"
    )
    from django.db import connection

    sql = (
        "SELECT * FROM registry_registerrecord WHERE plate_latin = %s"
        " ORDER BY d_reg DESC, id DESC LIMIT 1"
    )
    raw = []
    with connection.cursor() as cursor:
        for plate in plates:
            key = normalise_plate(plate)
            started = time.perf_counter()
            cursor.execute(sql, [key])
            cursor.fetchone()
            raw.append((time.perf_counter() - started) * 1000)
    say(f"plate lookup, one SQL round trip: {_pcts(raw)}")


def _pcts(timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[math.ceil(len(timings) * 0.95) - 1]  # nearest rank
    return f"p50 {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms"


def bench_crosscheck(count: int) -> None:
    from recognition.models import Reading
    from registry.models import RegisterRecord
    from webapp.checks.models import Flag
    from webapp.checks.services import listing_crosscheck
    from webapp.listings.models import Listing, Photo

    rng = random.Random(11)
    records = list(
        RegisterRecord.objects.exclude(plate_latin="")
        .order_by("?")[:count]
        .values_list("plate_latin", "make_norm", "model_norm", "colour", "make_year", "vin")
    )
    Listing.objects.filter(marketplace_id__startswith="bench-").delete()
    listings = []
    for index, (plate, make, model, colour, year, vin) in enumerate(records):
        listing = Listing.objects.create(
            marketplace_id=f"bench-{index}",
            declared_make=make if rng.random() < 0.8 else "BMW",
            declared_model=model,
            declared_colour="silver" if rng.random() < 0.3 else colour,
            declared_year=year,
            declared_plate=plate if rng.random() < 0.5 else "",
            declared_vin=vin if rng.random() < 0.5 else "",
        )
        for photo_index in range(3):
            photo = Photo.objects.create(
                listing=listing,
                image=f"bench/{index}-{photo_index}.jpg",
                sha256=f"{index:032d}{photo_index:032d}",
                width=1280,
                height=960,
                status=Photo.Status.DONE,
            )
            Reading.objects.create(
                photo=photo,
                model_version="bench",
                plate_text=plate,
                plate_format="ua_2015",
                confidence=rng.uniform(0.4, 0.99),
            )
        listings.append(listing.pk)
    started = time.perf_counter()
    for listing_id in listings:
        listing_crosscheck(listing_id=listing_id)
    seconds = time.perf_counter() - started
    flags = Flag.objects.filter(listing_id__in=listings).count()
    started = time.perf_counter()
    for listing_id in listings:
        listing_crosscheck(listing_id=listing_id)
    again = time.perf_counter() - started
    assert Flag.objects.filter(listing_id__in=listings).count() == flags
    say(
        f"cross-check: {len(listings)} listings x 3 photos in {seconds:.2f}s ="
        f" {len(listings) / seconds:,.0f} listings/s ({flags} flags);"
        f" re-run {len(listings) / again:,.0f} listings/s, no new flags"
    )


def main(args: argparse.Namespace) -> None:
    setup_django(args.database_url)
    backends = BackendCpu(args.database_url.rsplit("/", 1)[-1])
    backends.start()
    from django.db import connection

    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE registry_registerrecord, registry_importreject, registry_importrun, "
                "registry_registerfetch"
            )
        drop_run_partitions()
    with connection.cursor() as cursor:
        persistence = "UNLOGGED" if args.unlogged else "LOGGED"
        cursor.execute(f"ALTER TABLE registry_registerrecord SET {persistence}")
    say(f"register table {persistence}")
    say(f"PostgreSQL {connection.pg_version}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    bench_imports(args.files, backends)
    if args.imports_only:
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_registerrecord")
    bench_lookups(args.lookups)
    bench_crosscheck(args.listings)
    say(f"peak RSS of the whole run: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
