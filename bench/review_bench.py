"""Server time of the review queue and flag pages with 100,000 open flags, on PostgreSQL.

    DATABASE_URL=postgres://platecheck:platecheck@127.0.0.1:5432/platecheck \
        .venv/bin/python bench/review_bench.py [--flags 100000] [--runs 40] [--keepdb]

Other moderators (``--holders``) each hold a flag open, as a team at work does.

Works in a throw-away test database (``test_<name>``, created with migrations and dropped at the
end unless --keepdb), fills it with bulk_create, then times requests through Django's test
Client: everything the server does (middleware, session, queries, templates), no network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import string
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.django_bench import bench_database, pct, register_fill, say, setup  # noqa: E402

setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from recognition.models import Reading  # noqa: E402
from webapp.checks.models import Flag  # noqa: E402
from webapp.listings.models import Listing, ListingEdit, Photo  # noqa: E402
from webapp.review import holds  # noqa: E402
from webapp.review.models import MODERATORS_GROUP, FlagHold  # noqa: E402

QUEUE_TARGET_MS = 150
DETAIL_TARGET_MS = 250
# Ukrainian plates use the 12 letters that look alike in Latin and Cyrillic.
LETTERS = "ABCEHIKMOPTX"
KINDS = [k for k, _ in Flag.Kind.choices]
FORMATS = ["ua", "ua", "ua", "ua_transit", "ua_diplomatic"]
BATCH = 5000
EDITED_EVERY = 20  # one listing in 20 changed by its seller
BENCH_DB = "platecheck_review_bench"


def plate(rng: random.Random) -> str:
    return (
        "".join(rng.choices(LETTERS, k=2))
        + "".join(rng.choices(string.digits, k=4))
        + "".join(rng.choices(LETTERS, k=2))
    )


def fill(n_flags: int, rng: random.Random) -> list[str]:
    """Two open flags per listing, one photo and reading each, some register rows."""
    n_listings = n_flags // 2
    t0 = time.perf_counter()
    plates = [plate(rng) for _ in range(n_listings)]
    Listing.objects.bulk_create(
        [
            Listing(
                marketplace_id=f"BENCH-{i:07d}",
                declared_make="Toyota",
                declared_model="Corolla",
                declared_colour="white",
                declared_year=2015 + i % 8,
                declared_plate=plates[i],
            )
            for i in range(n_listings)
        ],
        batch_size=BATCH,
    )
    listing_ids = list(Listing.objects.order_by("id").values_list("id", flat=True))
    Photo.objects.bulk_create(
        [
            Photo(
                listing_id=lid,
                image=f"photos/bench/{lid}.jpg",
                sha256=f"{lid:064x}",
                width=1280,
                height=960,
                status=Photo.Status.DONE,
                model_version=rng.choice(["v1", "v2"]),
            )
            for lid in listing_ids
        ],
        batch_size=BATCH,
    )
    photo_ids = list(Photo.objects.order_by("id").values_list("id", "listing_id"))
    corners = [[500.0, 700.0], [760.0, 690.0], [762.0, 745.0], [502.0, 756.0]]
    Reading.objects.bulk_create(
        [
            Reading(
                photo_id=pid,
                model_version="v1",
                plate_text=plates[i],
                plate_format="ua",
                confidence=0.9,
                char_confidences=[0.9] * 8,
                alternatives=[{"text": plates[i], "score": 0.9}],
                corners=corners,
                box=[500.0, 690.0, 762.0, 756.0],
                detection_score=0.95,
                timings={},
            )
            for i, (pid, _lid) in enumerate(photo_ids)
        ],
        batch_size=BATCH,
    )
    flags = []
    for i, lid in enumerate(listing_ids):
        for kind in rng.sample(KINDS, 2):
            flags.append(
                Flag(
                    listing_id=lid,
                    kind=kind,
                    key=plates[i],
                    severity=rng.choice([1, 2, 2, 3]),
                    evidence={"plate": plates[i]},
                    evidence_hash=uuid.uuid4().hex,
                    plate_text=plates[i],
                    plate_format=rng.choice(FORMATS),
                )
            )
    Flag.objects.bulk_create(flags, batch_size=BATCH)
    _fill_register(plates[: n_listings // 2], rng)
    with connection.cursor() as cursor:
        # Spread the flags over two months so date filters and ordering do real work.
        cursor.execute(
            "UPDATE listings_flag SET created_at = now() - random() * interval '60 days'"
        )
    # A seller's change on one listing in EDITED_EVERY, at a random time of the same two months:
    # about half come after the listing's flags, which the queue then marks (and can filter on).
    ListingEdit.objects.bulk_create(
        [
            ListingEdit(listing_id=lid, changes={"declared_make": ["Lada", "Kia"]})
            for lid in listing_ids[::EDITED_EVERY]
        ],
        batch_size=BATCH,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE listings_listingedit SET edited_at = now() - random() * interval '60 days'"
        )
        # What autovacuum does soon after a bulk load in production: statistics for the planner
        # and a visibility map, without which index-only scans still visit the table.
        cursor.execute("VACUUM ANALYZE")
    elapsed = time.perf_counter() - t0
    say(f"filled {Flag.objects.count():,} flags on {n_listings:,} listings in {elapsed:.0f} s")
    return plates


def _fill_register(plates: list[str], rng: random.Random) -> None:
    register_fill(
        (
            (p, "TOYOTA", dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(1500)))
            for p in plates
        ),
        model="COROLLA",
        colour="білий",
        operation="registration",
    )


def timed(client: Client, url: str, runs: int, *, cold: bool = False) -> tuple[list[float], int]:
    """Server times of ``runs`` requests; ``cold`` empties the cache (untimed) before each one,
    so every request also pays for the queue's counts query."""
    for _ in range(3):  # warm the connection and the template cache
        assert client.get(url).status_code == 200, url
    times = []
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    n_queries = len(queries)  # now: the next request resets the connection's query log
    for _ in range(runs):
        if cold:
            cache.clear()
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
    return times, n_queries


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flags", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keepdb", action="store_true", help="reuse / keep the bench database")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--holders", type=int, default=20, help="other moderators, each with a flag open"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    # Not setup_test_environment(): its instrumented template rendering is test-only overhead.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    with bench_database(BENCH_DB, keepdb=args.keepdb):
        plates = (
            fill(args.flags, rng)
            if Flag.objects.count() < args.flags
            else list(Flag.objects.values_list("plate_text", flat=True)[:1000])
        )
        user, _ = User.objects.get_or_create(username="bench-moderator")
        user.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
        client = Client()
        client.force_login(user)
        # A team at work: other moderators each have a flag open, which the queue's rows name
        # and Next passes by (webapp/review/holds.py); the bench's own pages hold theirs.
        open_flags = Flag.objects.filter(status=Flag.Status.OPEN).order_by("?")[: args.holders]
        for i, flag in enumerate(list(open_flags)):
            other, _ = User.objects.get_or_create(username=f"bench-colleague-{i}")
            other.groups.add(Group.objects.get(name=MODERATORS_GROUP))
            holds.flag_hold(flag=flag, user=other)
        # their pages stay open (renewed every minute) for as long as the bench runs
        FlagHold.objects.update(until=timezone.now() + dt.timedelta(hours=2))
        say(f"{args.holders} other moderators with a flag open")

        some_plate = plates[rng.randrange(len(plates))]
        misread = (
            some_plate.replace("B", "8").replace("O", "0")
            if any(c in some_plate for c in "BO")
            else some_plate
        )
        queue = {
            "open, page 1": "/review/",
            "open, page 40": "/review/?status=open&page=40",
            "kind filter": "/review/?status=open&kind=make_mismatch",
            "severity + format": "/review/?status=open&severity=3&plate_format=ua_transit",
            "date range 7 d": "/review/?status=open&date_from=" + _days_ago(7),
            "plate search (confusion)": f"/review/?status=open&plate={misread}",
            "plate prefix": f"/review/?status=open&plate={some_plate[:4]}",
            "all statuses": "/review/?status=",
            "edited after the flag": "/review/?status=open&edited=on",
        }
        flag_ids = list(Flag.objects.order_by("?").values_list("id", flat=True)[:20])
        rows = []
        queue_all: list[float] = []
        for name, url in queue.items():
            times, n_queries = timed(client, url, args.runs)
            queue_all += times
            rows.append(("queue", name, times, n_queries))
        queue_cold: list[float] = []
        for name, url in queue.items():
            times, n_queries = timed(client, url, args.runs, cold=True)
            queue_cold += times
            rows.append(("queue*", name, times, n_queries))
        detail_all: list[float] = []
        per_flag = max(2, args.runs // len(flag_ids))
        detail_queries = 0
        for fid in flag_ids:
            times, detail_queries = timed(client, f"/review/flags/{fid}/?status=open", per_flag)
            detail_all += times
        rows.append(("detail", f"{len(flag_ids)} random flags", detail_all, detail_queries))
        times, n_queries = timed(client, "/review/dashboard/", max(5, args.runs // 4))
        rows.append(("dashboard", "30 days", times, n_queries))

        say(f"\n{'page':<10} {'case':<26} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for page, name, times, n_queries in rows:
            say(f"{page:<10} {name:<26} {pct(times, 50):8.1f} {pct(times, 95):8.1f} {n_queries:8d}")
        say("queue* = counts cache emptied before every request (worst case)")
        q95, d95 = pct(queue_all, 95), pct(detail_all, 95)
        say()
        for label, values, p95, target in (
            ("queue ", queue_all, q95, QUEUE_TARGET_MS),
            ("queue*", queue_cold, pct(queue_cold, 95), QUEUE_TARGET_MS),
            ("detail", detail_all, d95, DETAIL_TARGET_MS),
        ):
            verdict = "OK" if p95 < target else "MISSED"
            p50 = pct(values, 50)
            say(f"{label} p50 {p50:.1f} ms, p95 {p95:.1f} ms (target < {target}) {verdict}")
        return 0 if q95 < QUEUE_TARGET_MS and d95 < DETAIL_TARGET_MS else 1


def _days_ago(days: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


if __name__ == "__main__":
    sys.exit(main())
