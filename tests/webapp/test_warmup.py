"""A fresh web process does its first-request work at boot, without the broker or database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import webapp.wsgi  # what gunicorn imports in each worker
loaded = ["webapp.api.views", "webapp.review.views", "webapp.gates.pages", "kombu.transport.redis"]
print("missing:", [name for name in loaded if name not in sys.modules])
"""


def test_a_web_process_has_imported_its_views_and_tasks_before_its_first_request(tmp_path):
    # given: a broker nothing listens on, and a database file that does not exist yet
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
    }

    # when
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip

    # then: booted (nothing connected), with the URLconf, its views and the broker's transport
    # loaded (none of them are without the warm-up)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert "missing: []" in probe.stdout
    assert not (tmp_path / "never.sqlite3").exists()
