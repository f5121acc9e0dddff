"""Upload load test: partners' photos at a fixed rate against gunicorn on loopback.

    .venv/bin/python bench/upload_load.py --rate 50 --seconds 60

Starts gunicorn (deploy/gunicorn.conf.py) on a free loopback port with its own redis-server as
the broker, so recognition is queued to Redis, not run inline (no worker runs: the queue is
counted instead). Sends one listing with one photo per request at --rate requests/s for
--seconds (open loop: each request's latency counts from when it was due, so a slow server
cannot hide its queue), then prints p50/p95/max, errors, and photos lost: uploads answered 201
whose photo is not stored, or stored without a queued recognition message.

Runs on its own database (default platecheck_bench_load, created and migrated if missing,
listings emptied first).
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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
BENCH_DB_URL = "postgres://platecheck:platecheck@127.0.0.1:5432/platecheck_bench_load"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port} after {timeout}s")


def setup(database_url: str, env: dict[str, str]) -> str:
    """Migrate, empty the listings, and return a partner's API token."""
    name = database_url.rsplit("/", 1)[-1]
    if "bench" not in name:
        sys.exit(f"refusing to run on {name!r}: the bench empties tables; use a *bench* database")
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import psycopg

    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from webapp.listings.models import Listing
    from webapp.listings.partners import partners_group
    from webapp.partners.tokens import token_create

    Listing.objects.all().delete()
    user, _ = get_user_model().objects.get_or_create(username="load-partner")
    user.groups.add(partners_group())
    # a partner token as partners get them (hashed at rest, scoped, expiring)
    return token_create(user=user, name="upload load", scopes=["read", "write"], days=1).key


def photo_bytes(n: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (640, 480), ((n * 37) % 256, (n * 11) % 256, (n * 5) % 256))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def load(url: str, token: str, rate: float, seconds: float) -> tuple[list[float], list[str], int]:
    total = int(rate * seconds)
    photos = [photo_bytes(n) for n in range(total)]
    local = threading.local()
    latencies: list[float] = []
    errors: list[str] = []
    created = 0
    lock = threading.Lock()
    start = time.perf_counter() + 1.0

    def send(n: int) -> None:
        nonlocal created
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        due = start + n / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        try:
            response = session.post(
                f"{url}/api/v1/listings/",
                headers={"Authorization": f"Bearer {token}"},
                data={"marketplace_id": f"LOAD-{n}", "declared_make": "Toyota"},
                files={"photos": (f"p{n}.jpg", photos[n], "image/jpeg")},
                timeout=30,
            )
            outcome = "" if response.status_code == 201 else f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            outcome = type(exc).__name__
        with lock:
            latencies.append((time.perf_counter() - due) * 1000)
            if outcome:
                errors.append(outcome)
            else:
                created += 1

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(send, range(total)))
    return latencies, errors, created


def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="upload-load-"))
    redis_port, web_port = free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    env = {
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "CELERY_BROKER_URL": broker,
        "MEDIA_ROOT": str(work / "media"),
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "GUNICORN_WORKERS": str(args.gunicorn_workers),
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        # one token sends the whole load: its throttle (120/min by default) is lifted, since
        # what is measured is the upload path's capacity, not the per-partner limit
        "API_RATE_TOKEN": "1000000/min",
    }
    redis = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    web = None
    try:
        token = setup(args.database_url, env)
        web = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "deploy/gunicorn.conf.py",
             "--access-logfile", "/dev/null"],
            cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=(work / "gunicorn.log").open("wb"),
        )  # fmt: skip
        wait_port(web_port, 60)
        say(f"gunicorn ({args.gunicorn_workers} workers) on 127.0.0.1:{web_port}; "
            f"{args.rate}/s for {args.seconds}s; load {os.getloadavg()[0]:.1f}")  # fmt: skip
        latencies, errors, created = load(
            f"http://127.0.0.1:{web_port}", token, args.rate, args.seconds
        )
        report(latencies, errors, created, broker)
    finally:
        if web is not None:
            web.terminate()
            web.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def report(latencies: list[float], errors: list[str], created: int, broker: str) -> None:
    import redis as redis_client

    from webapp.listings.models import Photo

    latencies.sort()
    p95 = latencies[max(int(len(latencies) * 0.95) - 1, 0)]
    stored = Photo.objects.filter(listing__marketplace_id__startswith="LOAD-")
    queued = stored.filter(queued_at__isnull=False).count()
    messages = redis_client.Redis.from_url(broker).llen("recognition")
    lost = created - queued
    say(
        f"{len(latencies)} uploads: p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms,"
        f" max {latencies[-1]:.0f} ms; errors {len(errors)}"
        f" ({', '.join(sorted(set(errors))) or 'none'}); answered 201: {created};"
        f" photos stored {stored.count()}, marked queued {queued}, messages in Redis {messages};"
        f" photos lost {lost}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--gunicorn-workers", type=int, default=5)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", BENCH_DB_URL)
    )
    main(parser.parse_args())
