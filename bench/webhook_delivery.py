"""Webhook delivery latency to a healthy receiver: from the commit of the event to the signed
request arriving, through Redis and a real Celery worker (solo pool), as in production.

    python bench/webhook_delivery.py [--events 40] [--repeats 3] [--interval 0.1]

The bench makes its own PostgreSQL database beside DATABASE_URL's (dropped at the end) and
uses the Redis database BENCH_BROKER_URL (default redis://127.0.0.1:6379/13), which it empties.
Events go round-robin to five listings, so deliveries of one listing also wait for their order.
Prints p50/p95 per run and the median p95 of --repeats runs; then the receiver goes down for
--outage seconds (retries scaled to start at 1 s) and the bench checks that every event is
accepted once, in order.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORKER_START_TIMEOUT_S = 120
LISTINGS = 5

arrivals: dict[str, float] = {}
accepted: list[tuple[str, int, int]] = []  # (webhook-id, listing, n) in the order accepted
down_until = 0.0  # the receiver answers 503 until then (the outage run)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        if time.time() < down_until:
            self.send_response(503)
            self.end_headers()
            return
        arrivals.setdefault(self.headers["webhook-id"], time.time())
        data = body["data"]
        accepted.append((self.headers["webhook-id"], data["listing_id"], data["n"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def bench_database(server_url: str) -> tuple[str, str]:
    """A fresh PostgreSQL database beside DATABASE_URL's (SQLite locks the worker out)."""
    import psycopg

    parts = urlsplit(server_url)
    name = f"bench_webhooks_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def configure(folder: Path, database_url: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "MEDIA_ROOT": str(folder / "media"),
        "LOG_LEVEL": "WARNING",
        # Scaled for the outage run: retries after 1, 2, 4, 8, 8... seconds instead of minutes.
        "WEBHOOK_BACKOFF_BASE_S": "1",
        "WEBHOOK_BACKOFF_MAX_S": "8",
        "PYTHONPATH": str(REPO),
    }
    os.environ.update(env)
    return {**os.environ, **env}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "celery", "-A", "webapp", "worker", "-P", "solo", "-Q", "default",
        "-l", "info", "-n", "bench@%h", "--without-heartbeat", "--without-gossip",
        "--without-mingle",
    ]  # fmt: skip
    with log.open("wb") as handle:
        worker = subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=handle)
    deadline = time.monotonic() + WORKER_START_TIMEOUT_S
    while b" ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return worker


def run_once(args: argparse.Namespace, listings: list, endpoint_url: str) -> list[float]:
    from django.db import transaction

    from webapp.partners.models import WebhookDelivery
    from webapp.partners.webhooks import webhook_event_emit

    committed: dict[str, float] = {}
    for n in tqdm(range(args.events), desc="events", leave=False):
        with transaction.atomic():
            webhook_event_emit(
                event="flag.decided", listing_id=listings[n % LISTINGS].pk, data={"n": n}
            )
            message = WebhookDelivery.objects.order_by("-id").values_list("message_id", flat=True)[
                0
            ]
        committed[message] = time.time()
        time.sleep(args.interval)
    deadline = time.monotonic() + 120
    while not set(committed) <= set(arrivals) and time.monotonic() < deadline:
        time.sleep(0.05)
    missing = set(committed) - set(arrivals)
    if missing:
        raise SystemExit(f"{len(missing)} events never arrived")
    return [(arrivals[m] - t) * 1000 for m, t in committed.items()]


def outage(args: argparse.Namespace, listings: list) -> None:
    """The receiver is down for --outage seconds while events happen; beat's scan (called here
    once a second, as beat would) resends. Every event must be accepted once, in order per
    listing."""
    global down_until
    from webapp.partners.tasks import webhooks_send_due
    from webapp.partners.webhooks import webhook_event_emit

    accepted.clear()
    events = args.events
    down_until = time.time() + args.outage
    for n in range(events):
        webhook_event_emit(
            event="flag.decided", listing_id=listings[n % LISTINGS].pk, data={"n": n}
        )
        time.sleep(args.outage / events / 2)
    deadline = time.monotonic() + args.outage * 4 + 60
    while len({m for m, _, _ in accepted}) < events and time.monotonic() < deadline:
        webhooks_send_due()
        time.sleep(1)
    back_after = max(arrivals[m] for m, _, _ in accepted) - down_until if accepted else -1
    ids = [m for m, _, _ in accepted]
    in_order = all(
        [n for _, lst, n in accepted if lst == listing.pk]
        == sorted(n for _, lst, n in accepted if lst == listing.pk)
        for listing in listings
    )
    print(  # noqa: T201
        f"outage of {args.outage:.0f} s: {len(set(ids))}/{events} events accepted, "
        f"duplicates {len(ids) - len(set(ids))}, in order per listing: {in_order}; "
        f"all in {back_after:.1f} s after the receiver came back"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between events")
    parser.add_argument("--outage", type=float, default=20, help="receiver down (s); 0: skip")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    server_url = os.environ.get(
        "DATABASE_URL", "postgres://platecheck:platecheck@127.0.0.1:5432/platecheck"
    )
    database_url, database = bench_database(server_url)
    env = configure(folder, database_url)
    import django
    import redis

    django.setup()
    from django.core.management import call_command

    from tests.fixtures.factories import ListingFactory, UserFactory
    from webapp.partners.webhooks import webhook_endpoint_create

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    partner = UserFactory(username="bench-partner")
    webhook_endpoint_create(owner=partner, url=url, events=["flag.decided"])
    listings = [ListingFactory(owner=partner) for _ in range(LISTINGS)]
    worker = start_worker(env, folder / "worker.log")
    try:
        p95s = []
        for run in range(1, args.repeats + 1):
            latencies = run_once(args, listings, url)
            p50, p95 = np.percentile(latencies, 50), np.percentile(latencies, 95)
            p95s.append(float(p95))
            print(  # noqa: T201
                f"run {run}: {len(latencies)} events, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
                f"max {max(latencies):.0f} ms"
            )
        median = statistics.median(p95s)
        print(f"webhook delivery p95 (median of {args.repeats} runs): {median:.0f} ms")  # noqa: T201
        if args.outage > 0:
            outage(args, listings)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
        from django.db import connections

        connections.close_all()
        drop_database(server_url, database)


if __name__ == "__main__":
    main()
