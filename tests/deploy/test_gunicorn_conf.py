"""deploy/gunicorn.conf.py run as production runs it: the real gunicorn with several workers."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from tests.fixtures.worker import _database_url

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
REQUESTS_METRIC = "django_http_requests_before_middlewares_total"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scrape(url: str, server: subprocess.Popen[bytes], deadline: float) -> str:
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                return answer.read().decode()
        except (URLError, ConnectionError):
            time.sleep(0.3)
    return ""


@pytest.mark.django_db(transaction=True)
def test_metrics_of_several_workers_start_from_an_empty_folder(tmp_path):
    # given the folder env.example names for the web processes' metrics: not there yet (a
    # fresh /run after a reboot), or holding the counters of a previous run
    folder = tmp_path / "run" / "prometheus"
    stale_run = tmp_path / "previous"
    stale_run.mkdir()
    stale = MmapedDict(str(stale_run / "counter_1.db"))
    stale.write_value(mmap_key(REQUESTS_METRIC, REQUESTS_METRIC, [], [], "old"), 1e6, 0)
    stale.close()
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "METRICS_ALLOWED_ADDRESSES": "127.0.0.1",
    }
    env.pop("CELERY_BROKER_URL", None)
    runs = []
    for run in (1, 2):
        if run == 2:
            (folder / "counter_1.db").write_bytes((stale_run / "counter_1.db").read_bytes())
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            body = ""
            for _ in range(4):
                body = _scrape(f"http://127.0.0.1:{port}/metrics", server, deadline)
        finally:
            server.send_signal(signal.SIGTERM)
            log = server.communicate(timeout=40)[0].decode(errors="replace")
        assert "platecheck_photos" in body, log[-3000:]
        found = re.search(rf"^{REQUESTS_METRIC} (\S+)$", body, re.MULTILINE)
        assert found, body[-2000:]
        runs.append(float(found.group(1)))
    # then both runs answer, each counting only its own requests
    assert max(runs) < 10, runs
