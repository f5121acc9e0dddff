"""gunicorn settings; every value can be overridden from the environment file."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: uploads are validated in the request, CPU bound and short.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "webapp.wsgi:application"


def on_starting(server: object) -> None:
    """The workers' metric files (PROMETHEUS_MULTIPROC_DIR): the folder is made (a fresh /run
    has none, and every worker would fail to boot) and emptied, so a previous run's counters
    are not added to this one's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server: object, worker: object) -> None:
    """A recycled worker's live gauges leave with it; its counters stay in the sum."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
