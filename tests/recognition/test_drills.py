"""Fault drills: a real worker, PostgreSQL and a private Redis, broken in the middle of a run.

After each drill every photo is read by the new model exactly once (one reading set per photo
and version), every listing is cross-checked after its readings, and nothing is `failed`.
The sweeper fixture does what beat does in production (requeue, cross-check sweep).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from recognition import dispatch
from recognition.models import CrosscheckRequest, Reading
from tests.fixtures.engine_double import finished_reads
from tests.fixtures.factories import ListingFactory, PhotoFactory
from tests.fixtures.worker import (
    Worker,
    cut_database_sessions,
    drop_broker_connections,
    wait_for,
)
from webapp.celery import app as celery_app
from webapp.listings.models import Photo

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NEW = "double-1"
LISTINGS, PER_LISTING = 6, 4
SETTLE_TIMEOUT_S = 120


class PrivateRedis:
    """A redis-server of this test only (no persistence), so it can be killed and restarted
    while the shared one other sessions use stays up."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server", "--port", str(self.port),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(self._up, timeout=20, what="the private redis-server")

    def _up(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(private_redis: PrivateRedis) -> Iterator[str]:
    """Overrides the worker fixture's broker: the private Redis, for this test and its worker."""
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=private_redis.url, task_always_eager=False)
    drop_broker_connections()
    yield private_redis.url
    celery_app.conf.update(**saved)
    drop_broker_connections()


@pytest.fixture
def drill_settings(settings):
    settings.RECOGNITION_BATCH = 4
    settings.RECOGNITION_QUEUE_LOST_SECONDS = 3
    settings.CROSSCHECK_RESEND_SECONDS = 3
    return settings


def old_photos() -> list[Photo]:
    """Photos read by an older model: the nightly backlog's work."""
    photos = []
    for _ in range(LISTINGS):
        listing = ListingFactory()
        photos += PhotoFactory.create_batch(
            PER_LISTING, listing=listing, status=Photo.Status.DONE, model_version="double-0"
        )
    return photos


def backlog_held_at_first_batch(engine_control: Path) -> list[Photo]:
    """Old photos queued by the backlog, the engine holding the first batch it was given."""
    photos = old_photos()
    (engine_control / "mode").write_text("block")
    dispatch.backlog_enqueue(engine_version=NEW)
    wait_for((engine_control / "started").exists, timeout=60, what="the first batch to start")
    return photos


def settled(photos: list[Photo]) -> bool:
    ids = [p.pk for p in photos]
    done = Photo.objects.filter(pk__in=ids, status=Photo.Status.DONE, model_version=NEW).count()
    listings = {p.listing_id for p in photos}
    checked = [r for r in CrosscheckRequest.objects.filter(listing_id__in=listings) if not r.is_due]
    return done == len(ids) and len(checked) == len(listings)


def assert_exactly_once(photos: list[Photo], worker: Worker) -> None:
    try:
        wait_for(lambda: settled(photos), timeout=SETTLE_TIMEOUT_S, what="every photo and listing")
    except AssertionError as exc:
        states = list(Photo.objects.values_list("status", "model_version", "attempts"))
        raise AssertionError(f"{exc}; photos {states}; worker log:\n{worker.log()}") from None
    ids = [p.pk for p in photos]
    sets = Reading.objects.filter(photo_id__in=ids, model_version=NEW).values("photo_id")
    per_photo = {row["photo_id"]: row["n"] for row in sets.annotate(n=Count("id"))}
    assert per_photo == dict.fromkeys(ids, 1)  # the double reads one plate: one set each
    assert not Photo.objects.filter(status=Photo.Status.FAILED).exists()
    for request in CrosscheckRequest.objects.filter(listing_id__in={p.listing_id for p in photos}):
        newest = Photo.objects.filter(listing_id=request.listing_id).latest("processed_at")
        assert request.checked_at >= newest.processed_at  # checked after its last reading


def test_drill_sigkill_a_worker_mid_batch(
    celery_worker: Worker, engine_control: Path, sweeper, drill_settings
):
    photos = backlog_held_at_first_batch(engine_control)
    celery_worker.kill()
    (engine_control / "mode").write_text("ok")
    celery_worker.start()
    assert_exactly_once(photos, celery_worker)
    assert finished_reads(engine_control) == len(photos)  # the killed batch never finished
    assert Photo.objects.filter(attempts=2).count() == drill_settings.RECOGNITION_BATCH


def test_drill_restart_redis_mid_run(
    celery_worker: Worker,
    engine_control: Path,
    sweeper,
    drill_settings,
    private_redis: PrivateRedis,
):
    photos = backlog_held_at_first_batch(engine_control)
    # Redis dies with every queued message (no persistence) and comes back empty
    private_redis.stop()
    time.sleep(1)
    private_redis.start()
    drop_broker_connections()
    (engine_control / "release").touch()
    assert_exactly_once(photos, celery_worker)
    assert finished_reads(engine_control) == len(photos)  # lost messages resent, none twice


def test_drill_broker_down_when_readings_are_stored(
    celery_worker: Worker,
    engine_control: Path,
    sweeper,
    drill_settings,
    private_redis: PrivateRedis,
):
    (engine_control / "mode").write_text("block")
    photos = old_photos()[:PER_LISTING]  # one listing, one batch
    dispatch.backlog_enqueue(engine_version=NEW)
    wait_for((engine_control / "started").exists, timeout=60, what="the batch to start")
    sweeper.set()  # paused: the outbox must hold the request while the broker is away
    private_redis.stop()
    (engine_control / "release").touch()
    # the readings commit; sending the cross-check fails; the request stays due
    wait_for(
        lambda: (
            Photo.objects.filter(status=Photo.Status.DONE, model_version=NEW).count() == len(photos)
        ),
        timeout=60,
        what="the readings to be stored",
    )
    request = CrosscheckRequest.objects.get(listing_id=photos[0].listing_id)
    assert request.is_due
    private_redis.start()
    drop_broker_connections()
    sweeper.clear()
    assert_exactly_once(photos, celery_worker)


def test_drill_database_sessions_cut_mid_run(
    celery_worker: Worker, engine_control: Path, sweeper, drill_settings
):
    # What a restart, a failover or a pooler does to the clients, without taking the server
    # down (the restart itself is the next drill): every session of the test database is cut,
    # twice during the run.
    photos = backlog_held_at_first_batch(engine_control)
    for _ in range(2):
        cut_database_sessions()
        (engine_control / "release").touch()
        time.sleep(1.0)
    assert_exactly_once(photos, celery_worker)


# The test database's own cluster, as Debian runs it (scripts/setup.sh starts it the same way).
PG_CLUSTER = ("15", "main")
PG_DOWN_SECONDS = 3


def _cluster_control_available() -> bool:
    db = connection.settings_dict
    local = (db.get("HOST") or "127.0.0.1") in {"127.0.0.1", "localhost"}
    return os.geteuid() == 0 and shutil.which("pg_ctlcluster") is not None and local


def _cluster(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", *PG_CLUSTER, action, "-m", "fast"] if action == "stop"
        else ["pg_ctlcluster", *PG_CLUSTER, action],
        check=True, timeout=120, capture_output=True,
    )  # fmt: skip


def _server_started_at() -> object:
    connection.close()  # a connection from before a restart is dead; Django opens a new one
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        return cursor.fetchone()[0]


@pytest.mark.skipif(
    not _cluster_control_available(),
    reason="restarting PostgreSQL needs root and pg_ctlcluster on the test database's host "
    "(CI has both: scripts/setup.sh)",
)
def test_drill_restart_postgresql_mid_run(
    celery_worker: Worker, engine_control: Path, sweeper, drill_settings
):
    # The real thing: the server stops while a batch is being read, stays down while the batch
    # tries to store its readings, and starts again.
    photos = backlog_held_at_first_batch(engine_control)
    before = _server_started_at()
    try:
        _cluster("stop")
        (engine_control / "release").touch()
        time.sleep(PG_DOWN_SECONDS)
    finally:
        _cluster("start")
    wait_for(_reachable, timeout=60, what="PostgreSQL to accept connections again")
    assert _server_started_at() != before  # it really was restarted
    assert_exactly_once(photos, celery_worker)


def _reachable() -> bool:
    try:
        _server_started_at()
    except Exception:  # noqa: BLE001 - still starting up
        return False
    return True
