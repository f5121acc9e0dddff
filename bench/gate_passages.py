"""Server time of the gate operators' passages page, its CSV export, a passage's own page and
the site page, with a year of a busy car park's passages and stays, on PostgreSQL.

    DATABASE_URL=postgres://platecheck:platecheck@127.0.0.1:5432/platecheck \
        .venv/bin/python bench/gate_passages.py [--passages 500000] [--runs 30] [--keepdb]

Works in a throw-away database of its own (created with migrations, dropped at the end unless
--keepdb), fills it with bulk_create (four gates, passages spread over 365 days; three frames
for each passage within GATE_FRAME_RETENTION_DAYS, none for older ones, which retention purged;
a register record for every car, an earlier owner for one in ten; a stay on the site for every
other passage), then times requests through Django's test Client: everything the server does
(middleware, session, queries, templates).
"queries" is the count for one request: it should not grow with the page's rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.django_bench import bench_database, pct, register_fill, say, setup  # noqa: E402

setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from registry.models import RegisterRecord  # noqa: E402
from webapp.gates import services  # noqa: E402
from webapp.gates.models import Decision, Frame, Passage, Visit  # noqa: E402

BENCH_DB = "platecheck_gate_passages_bench"
BATCH = 5000
FRAMES = 3  # a passage's frames: the gate's camera sends a few per car
PAGE_TARGET_MS = 250
LETTERS = "ABCEHIKMOPTX"


def plate(rng: random.Random) -> str:
    return (
        "".join(rng.choices(LETTERS, k=2))
        + "".join(rng.choices("0123456789", k=4))
        + "".join(rng.choices(LETTERS, k=2))
    )


def fill(n: int, rng: random.Random) -> list[str]:
    """`n` passages at four gates over a year, of about n / 20 cars (regulars come back)."""
    t0 = time.perf_counter()
    gates = [services.gate_create(name=f"gate-{i}", site="Bench park") for i in range(4)]
    devices = [services.device_create(gate=gate).device for gate in gates]
    cars = [plate(rng) for _ in range(max(1, n // 20))]
    now = timezone.now()
    decisions = [Decision.OPEN] * 8 + [Decision.DENY, Decision.UNKNOWN]
    kept_from = now - dt.timedelta(days=settings.GATE_FRAME_RETENTION_DAYS or 365)
    for start in range(0, n, BATCH):
        rows = []
        for _ in range(start, min(start + BATCH, n)):
            g = rng.randrange(4)
            at = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
            decision = rng.choice(decisions)
            rows.append(
                Passage(
                    gate=gates[g],
                    device=devices[g],
                    started_at=at - dt.timedelta(seconds=4),
                    last_frame_at=at,
                    frames_count=FRAMES,
                    confidence=0.93,
                    decision=decision,
                    voted_plate="" if decision == Decision.UNKNOWN else rng.choice(cars),
                    reason="bench",
                    decided_at=at,
                    decide_ms=180.0,
                )  # fmt: skip
            )
        Passage.objects.bulk_create(rows, batch_size=BATCH)
        frames = [
            Frame(
                passage=p,
                device=p.device,
                client_frame_id=f"{p.pk}-{k}",
                image=f"frames/bench/{p.pk}-{k}.jpg",
                width=1280,
                height=720,
                captured_at=p.last_frame_at,
                received_at=p.last_frame_at,
                status="done",
                plate_text=p.voted_plate,
                confidence=0.8 + k / 100,
                decision=p.decision,
                corners=[[600, 500], [760, 500], [760, 540], [600, 540]],
            )  # fmt: skip
            for p in rows
            if p.last_frame_at >= kept_from
            for k in range(FRAMES)
        ]
        Frame.objects.bulk_create(frames, batch_size=BATCH)
    # a record for every car, an earlier owner for one in ten
    register_fill(
        (car, brand, dt.date(2020 + k, 1, 1))
        for line, car in enumerate(cars)
        for k, brand in enumerate(["TOYOTA", "SKODA"] if line % 10 == 0 else ["SKODA"])
    )
    site = gates[0].site
    visits = []
    for _ in range(n // 2):  # a stay for every other passage: the site's year of visits
        car = rng.choice(cars)
        entered = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        exited = entered + dt.timedelta(minutes=rng.randrange(10, 8 * 60))
        inside = exited > now
        visits.append(
            Visit(
                site=site,
                plate=car,
                plate_key=car,
                entered_at=entered,
                state=Visit.State.INSIDE if inside else Visit.State.LEFT,
                exited_at=None if inside else exited,
            )  # fmt: skip
        )
    Visit.objects.bulk_create(visits, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE gates_passage")
        cursor.execute("VACUUM ANALYZE gates_frame")
        cursor.execute("VACUUM ANALYZE gates_visit")
        cursor.execute(f"ANALYZE {RegisterRecord._meta.db_table}")
    say(
        f"filled {Passage.objects.count():,} passages, {Frame.objects.count():,} frames, "
        f"{Visit.objects.count():,} visits and {RegisterRecord.objects.count():,} register "
        f"records in {time.perf_counter() - t0:.0f} s"
    )
    return cars


def timed(client: Client, url: str, runs: int) -> tuple[list[float], int]:
    for _ in range(2):  # warm the connection and the template cache
        assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    n_queries = len(queries)  # now: the next request resets the connection's query log
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
    return times, n_queries


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keepdb", action="store_true", help="reuse / keep the bench database")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    with bench_database(BENCH_DB, keepdb=args.keepdb):
        if Passage.objects.count() < args.passages:
            cars = fill(args.passages, rng)
        else:
            cars = list(
                Passage.objects.exclude(voted_plate="").values_list("voted_plate", flat=True)[:100]
            )
        user, _ = User.objects.get_or_create(username="bench-operator", is_staff=True)
        client = Client()
        client.force_login(user)
        car = cars[len(cars) // 2]
        day = (timezone.localdate() - dt.timedelta(days=40)).isoformat()
        gate_id = Passage.objects.values_list("gate_id", flat=True).first()
        site_id = Visit.objects.values_list("site_id", flat=True).first()
        # the car's latest passage: its page looks up the plate's ten before it
        passage_id = Passage.objects.filter(voted_plate=car).values_list("pk", flat=True).first()
        cases = {
            "live (newest 50)": "/gates/",
            "page 20": "/gates/?page=20",
            "plate prefix (4)": f"/gates/?plate={car[:4]}",
            "plate's digits (4)": f"/gates/?plate={car[2:6]}",
            "whole plate": f"/gates/?plate={car}",
            "gate + denied": f"/gates/?gate={gate_id}&decision=deny",
            "one day": f"/gates/?since={day}&until={day}",
            "CSV: one car's year": f"/gates/passages.csv?plate={car}",
            "CSV: one day": f"/gates/passages.csv?since={day}&until={day}",
            "site page (year of visits)": f"/gates/sites/{site_id}/",
            "a passage's page": f"/gates/passages/{passage_id}/",
        }
        say(f"{'case':<27} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        worst = 0.0
        for name, url in cases.items():
            times, queries = timed(client, url, args.runs)
            p95 = pct(times, 95)
            worst = max(worst, p95)
            say(f"{name:<27} {statistics.median(times):8.1f} {p95:8.1f} {queries:8d}")
        verdict = "OK" if worst < PAGE_TARGET_MS else "OVER"
        say(f"worst p95 {worst:.1f} ms (target < {PAGE_TARGET_MS}) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
