"""The nightly backlog through the real chain: PostgreSQL, Redis, Celery workers, the cross-check.

    .venv/bin/python bench/bulk_backlog.py --photos 100000 --workers 1 2 --real 8

Part 1 (plumbing): --photos photos, read by an older model, are queued by the backlog
(`dispatch.backlog_enqueue`, RECOGNITION_BATCH per message) and read by 1, then 2, real Celery
worker processes (solo pool, as on a GPU box) with the tests' engine double, so what is timed is
what a GPU would wait on: claims, image loads, storing readings, the outbox and the cross-check.
Prints photos/s, and PostgreSQL time per photo (CPU seconds of this database's backends).

Part 2 (engine): --real photos through the real engine on this CPU: photos/s and ms per stage.

Runs on its own database (default platecheck_bench_backlog, created and migrated if missing,
its photos and listings emptied first) and its own redis-server on a free port.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_DB_URL = "postgres://platecheck:platecheck@127.0.0.1:5432/platecheck_bench_backlog"
PER_LISTING = 4


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=16, help="RECOGNITION_BATCH")
    parser.add_argument("--real", type=int, default=8, help="photos through the real engine")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per worker count")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", BENCH_DB_URL)
    )
    return parser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def setup(args: argparse.Namespace, work: Path, broker: str) -> None:
    name = args.database_url.rsplit("/", 1)[-1]
    if "bench" not in name:
        sys.exit(f"refusing to run on {name!r}: the bench empties tables; use a *bench* database")
    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="webapp.settings",
        CELERY_BROKER_URL=broker,
        MEDIA_ROOT=str(work / "media"),
        RECOGNITION_BATCH=str(args.batch_size),
        PLATECHECK_ENGINE="tests.fixtures.engine_double:load_engine",
        ENGINE_DOUBLE_DIR=str(work / "engine"),
        # a throw-away key: the bench runs with DEBUG off, which refuses to start without one
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
    )
    (work / "engine").mkdir()
    (work / "engine" / "plates").write_text("A{w}{h}")
    sys.path.insert(0, str(REPO))
    import psycopg

    admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_photos(count: int) -> None:
    """`count` photos read by "double-0", PER_LISTING per listing, sharing one small JPEG."""
    from django.core.files.storage import default_storage
    from django.db import connection

    from tests.fixtures.images import jpeg
    from webapp.listings.models import Listing, Photo

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE listings_listing, listings_photo, recognition_reading, "
            "recognition_crosscheckrequest, recognition_backlogrun, listings_flag CASCADE"
        )
    # One small JPEG per listing, its size unique, so the double reads a plate of its own per
    # listing (plates "A{w}{h}"): with one plate for all, every cross-check would compare each
    # listing with every other one (plate_on_other_listing), which no real night does.
    listings = Listing.objects.bulk_create(
        Listing(marketplace_id=f"bench-{n}", declared_make="Toyota")
        for n in range((count + PER_LISTING - 1) // PER_LISTING)
    )
    sizes = [(32 + n % 256, 32 + n // 256) for n in range(len(listings))]
    names = [
        default_storage.save(f"bench/{w}x{h}.jpg", io.BytesIO(jpeg(width=w, height=h)))
        for w, h in sizes
    ]
    photos = (
        Photo(
            listing_id=listings[n // PER_LISTING].pk,
            image=names[n // PER_LISTING],
            sha256=f"{n:064d}",
            width=sizes[n // PER_LISTING][0],
            height=sizes[n // PER_LISTING][1],
            status=Photo.Status.DONE,
            model_version="double-0",
        )
        for n in range(count)
    )
    Photo.objects.bulk_create(photos, batch_size=5000)


class Workers:
    def __init__(self, count: int, version: str, log_dir: Path) -> None:
        env = {**os.environ, "ENGINE_DOUBLE_VERSION": version, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-P", "solo",
                   "-Q", "recognition,backlog,default", "-l", "warning",
                   "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
        self.processes = []
        for n in range(count):
            log = (log_dir / f"worker-{version}-{n}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [*command, "-n", f"bench{n}-{version}@%h"],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


class CpuTracker:
    """Keeps each backend's last CPU reading, so closed connections still count."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.seen: dict[int, float] = {}

    def poll(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = "
                "'client backend' AND pid <> pg_backend_pid()",
                [self.database],
            )
            pids = [pid for (pid,) in cursor.fetchall()]
        for pid in pids:
            try:
                values = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            cpu = (int(values[11]) + int(values[12])) / os.sysconf("SC_CLK_TCK")
            self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))

    def total(self) -> float:
        return sum(self.seen.values())


def exactly_once(version: str) -> str:
    """What the drills assert, over the whole run: reading sets per photo, listings unchecked."""
    from django.db.models import Count, F, Q

    from recognition.models import CrosscheckRequest, Reading
    from webapp.listings.models import Photo

    sets = (
        Reading.objects.filter(model_version=version)
        .values("photo_id")
        .annotate(n=Count("id"))
        .exclude(n=1)
        .count()
    )  # the double reads one plate per photo: one reading each, or the photo was stored twice
    unread = Photo.objects.exclude(model_version=version).count()
    due = Q(checked_at__isnull=True) | Q(checked_at__lt=F("requested_at"))
    unchecked = CrosscheckRequest.objects.filter(due).count()
    return (
        f"photos not read {unread}, with other than one reading {sets},"
        f" listings unchecked {unchecked}"
    )


def run_plumbing(args: argparse.Namespace, workers: int, version: str, log_dir: Path) -> None:
    from django.db.models import F, Q
    from tqdm import tqdm

    from recognition import dispatch
    from recognition.models import CrosscheckRequest
    from webapp.listings.models import Photo

    control = Path(os.environ["ENGINE_DOUBLE_DIR"])
    (control / "calls").unlink(missing_ok=True)

    database = args.database_url.rsplit("/", 1)[-1]
    tracker = CpuTracker(database)
    tracker.poll()
    before = tracker.total()
    pool = Workers(workers, version, log_dir)
    try:
        time.sleep(5)  # let the workers start before the clock does
        started = time.perf_counter()
        run = dispatch.backlog_enqueue(engine_version=version)
        due = Q(checked_at__isnull=True) | Q(checked_at__lt=F("requested_at"))
        read_seconds = None
        with tqdm(total=run.total, unit="photo", desc=f"{workers} worker(s)") as bar:
            while time.perf_counter() - started < args.timeout:
                tracker.poll()
                done = Photo.objects.filter(model_version=version).count()
                bar.update(done - bar.n)
                if done >= run.total and read_seconds is None:
                    read_seconds = time.perf_counter() - started
                if done >= run.total and not CrosscheckRequest.objects.filter(due).exists():
                    break
                time.sleep(0.5)
        seconds = time.perf_counter() - started
        done = Photo.objects.filter(model_version=version).count()
    finally:
        pool.stop()
    tracker.poll()
    db_cpu = tracker.total() - before
    failed = Photo.objects.filter(status=Photo.Status.FAILED).count()
    read_rate = f"{done / read_seconds:,.1f}" if read_seconds else "-"
    say(
        f"plumbing, {workers} worker(s): {done:,} of {run.total:,} photos read in"
        f" {read_seconds or 0:.1f}s = {read_rate} photos/s; with every listing cross-checked"
        f" {seconds:.1f}s = {done / seconds:,.1f} photos/s;"
        f" PostgreSQL CPU {db_cpu:.1f}s = {db_cpu / max(done, 1) * 1000:.2f} ms/photo;"
        f" failed {failed}; batch {args.batch_size}; load {os.getloadavg()[0]:.1f}"
    )
    from tests.fixtures.engine_double import finished_reads

    reads = finished_reads(control)
    say(
        f"  exactly once: engine reads {reads:,} for {run.total:,} photos"
        f" ({reads - run.total:+,}); {exactly_once(version)}"
    )


def run_real_engine(count: int) -> None:
    import numpy as np
    from PIL import Image

    from recognition.engine_loader import engine_factory

    photos_dir = REPO / "webapp" / "listings" / "sample_data" / "photos"
    files = sorted(photos_dir.glob("*.jpg"))
    if not files:
        say("real engine: no sample photos, skipped")
        return
    images = [np.asarray(Image.open(files[n % len(files)]).convert("RGB")) for n in range(count)]
    engine = engine_factory("recognition.pipeline.engine:load_engine")(models_dir=REPO / "models")
    engine.recognize_batch(images[:1])  # warm-up
    stages: dict[str, list[float]] = {}
    started = time.perf_counter()
    for image in images:
        for result in engine.recognize_batch([image]):
            for stage, ms in result.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
    seconds = time.perf_counter() - started
    per_stage = "  ".join(f"{k} {statistics.median(v):.0f}" for k, v in stages.items())
    say(
        f"real engine {engine.version} on this CPU: {count} photos in {seconds:.1f}s ="
        f" {count / seconds:.2f} photos/s; median ms per stage: {per_stage}"
    )


def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bulk-backlog-"))
    port = free_port()
    redis = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        setup(args, work, f"redis://127.0.0.1:{port}/0")
        say(f"{os.cpu_count()} CPUs, load {os.getloadavg()}; making {args.photos:,} photos")
        make_photos(args.photos)
        for workers in args.workers:
            run_plumbing(args, workers, f"bench-{workers}w-{time.time():.0f}", work)
        if args.real:
            run_real_engine(args.real)
    finally:
        redis.terminate()
        redis.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
