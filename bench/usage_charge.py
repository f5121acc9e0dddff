"""What counting a partner's photos costs each API call, on PostgreSQL.

    .venv/bin/python bench/usage_charge.py [--partners 20] [--charges 2000] [--keepdb]

Every call that has photos read takes `webapp.partners.usage.usage_charge` first: a short
transaction that takes the partner's advisory lock, adds to the day's count and sums the month.
This times it in a database of its own with a month of counts already there, one caller and then
two threads at once (these 2 cores), on many partners and on one partner (its calls take turns on
its lock). Beside it, in the same run, the least such a count costs: one `UPDATE ... SET count =
count + 1` in its own transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.django_bench import bench_database, say, setup  # noqa: E402

setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402

from webapp.partners.models import PartnerQuota, UsageDay, UsageKind  # noqa: E402
from webapp.partners.usage import usage_charge  # noqa: E402

BENCH_DB = "platecheck_usage_bench"


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--charges", type=int, default=2000, help="charges timed per case")
    parser.add_argument("--keepdb", action="store_true")
    return parser


def partners_make(count: int) -> list[User]:
    """Partners with a quota no charge reaches, and a month of counts (every day, every kind)."""
    users = [User.objects.create(username=f"bench-partner-{n}") for n in range(count)]
    PartnerQuota.objects.bulk_create([PartnerQuota(user=u, photos_per_month=10**9) for u in users])
    today = timezone.localdate()
    first = today.replace(day=1)
    days = [first + dt.timedelta(days=n) for n in range((today - first).days)]
    UsageDay.objects.bulk_create(
        [
            UsageDay(user=u, day=d, kind=k, count=100)
            for u in users
            for d in days
            for k in UsageKind.values
        ]
    )
    return users


def _timed(calls: int, call) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _line(name: str, times: list[float], wall_s: float) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    return (
        f"{name:48s} {len(times) / wall_s:8.0f} charges/s   ms p50 {statistics.median(times):5.2f}"
        f"  p95 {p95:5.2f}"
    )


def _threads(count: int, calls: int, call_for) -> tuple[list[float], float]:
    """`count` threads, each making `calls` calls of `call_for(thread index)`, started together."""
    times: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait()
            mine = _timed(calls, call_for(index))
            with lock:
                times.extend(mine)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, time.perf_counter() - started


def plain_update(user: User) -> None:
    with transaction.atomic():
        UsageDay.objects.filter(user=user, day=timezone.localdate(), kind=UsageKind.PHOTO).update(
            count=F("count") + 1
        )


def main(args: argparse.Namespace) -> None:
    with bench_database(BENCH_DB, keepdb=args.keepdb):
        UsageDay.objects.all().delete()
        PartnerQuota.objects.all().delete()
        User.objects.filter(username__startswith="bench-partner-").delete()
        users = partners_make(args.partners)
        for u in users:  # today's rows exist, as after a partner's first call of the day
            usage_charge(user=u, kind=UsageKind.PHOTO, count=1)
        rng = random.Random(7)
        say(
            f"PostgreSQL {connection.pg_version}; {args.partners} partners, "
            f"{UsageDay.objects.count():,} day counts; {args.charges} charges a case"
        )

        def charge_any() -> None:
            usage_charge(user=rng.choice(users), kind=UsageKind.PHOTO, count=1)

        def update_any() -> None:
            plain_update(rng.choice(users))

        for name, call in (("plain UPDATE count + 1 (the floor)", update_any),
                           ("usage_charge, one caller", charge_any)):  # fmt: skip
            started = time.perf_counter()
            times = _timed(args.charges, call)
            say(_line(name, times, time.perf_counter() - started))

        half = args.charges // 2
        times, wall = _threads(
            2,
            half,
            lambda i: lambda: usage_charge(user=users[i], kind=UsageKind.PHOTO, count=1),
        )
        say(_line("usage_charge, 2 threads, a partner each", times, wall))
        times, wall = _threads(
            2, half, lambda i: lambda: usage_charge(user=users[0], kind=UsageKind.PHOTO, count=1)
        )
        say(_line("usage_charge, 2 threads, one partner (its lock)", times, wall))


if __name__ == "__main__":
    main(get_args_parser().parse_args())
