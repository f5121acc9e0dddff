"""The checks behind ``/healthz``: database, Redis, the Celery broker, a live worker and the
engine version installed in ``models/``. Each check is a function returning a short detail
string or raising; ``Skipped`` marks a check that does not apply (the demo runs tasks in-process,
without a broker or a worker).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

# A health probe must answer fast even when a dependency hangs.
TIMEOUT_SECONDS = 2.0


class Skipped(Exception):  # noqa: N818 - a state, not an error
    """The check does not apply to this deployment; the message says why."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "ok", "fail" or "skipped"
    detail: str
    ms: float


def _broker_url() -> str:
    return "" if settings.CELERY_TASK_ALWAYS_EAGER else settings.CELERY_BROKER_URL


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def check_redis() -> str:
    url = getattr(settings, "HEALTH_REDIS_URL", "") or _broker_url()
    if not url.startswith(("redis://", "rediss://")):
        raise Skipped("no Redis configured")
    import redis

    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
        return f"redis {client.info('server').get('redis_version', '?')}"
    finally:
        client.close()


def check_broker() -> str:
    if not _broker_url():
        raise Skipped("tasks run in-process (no broker)")
    from webapp.celery import app

    # The URL from settings, not the app's conf: that is read once, when Celery first starts.
    with app.connection_for_write(url=_broker_url()) as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"


def check_worker() -> str:
    """At least one Celery worker answers a ping (its heartbeat over the broker)."""
    if not _broker_url():
        raise Skipped("tasks run in-process (no worker)")
    from webapp.celery import app

    replies = app.control.ping(timeout=TIMEOUT_SECONDS) or []
    if not replies:
        raise RuntimeError("no worker answered a ping")
    return f"{len(replies)} worker(s): " + ", ".join(sorted(k for r in replies for k in r))


def installed_engine_version() -> str:
    """The engine version the manifests in PLATECHECK_MODELS_DIR describe (what a worker that
    loads them reports), read without loading torch."""
    folder = Path(settings.PLATECHECK_MODELS_DIR)
    versions = []
    for part in ("detector", "ocr"):
        manifest = folder / part / "manifest.json"
        versions.append(str(json.loads(manifest.read_text())["version"]))
    return "+".join(versions)


def check_engine() -> str:
    return installed_engine_version()


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
    "worker": check_worker,
    "engine": check_engine,
}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS.items():
        start = time.perf_counter()
        try:
            status, detail = "ok", check()
        except Skipped as skip:
            status, detail = "skipped", str(skip)
        except Exception as exc:  # a probe reports every failure, whatever its kind
            status, detail = "fail", f"{type(exc).__name__}: {exc}"[:300]
        results.append(CheckResult(name, status, detail, (time.perf_counter() - start) * 1000))
    return results
