"""Live progress of a register import: written to the run row while the import goes on, read
by the admin (rows, rows/s, ETA) and /metrics."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from registry import progress as progress_module
from registry.models import ImportProgress, ImportRun
from registry.services import register_import

REPO = Path(__file__).resolve().parents[2]


def _generate(path: Path, rows: int) -> None:
    spec = importlib.util.spec_from_file_location(
        "register_generate", REPO / "bench" / "register_generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(path=path, rows=rows, fmt="dmy2", seed=3, malformed=0.0)


@pytest.mark.django_db(transaction=True)
def test_progress_is_written_while_the_import_runs(tmp_path, monkeypatch):
    path = tmp_path / "register.csv"
    _generate(path, 25_000)
    seen: list[tuple[str, int, int]] = []
    original = progress_module.ProgressWriter.update

    def spy(self, *, rows, bytes_read, force=False):
        original(self, rows=rows, bytes_read=bytes_read, force=True)
        # what another process (the admin, Prometheus) sees at this moment
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT status, progress_rows, progress_bytes FROM registry_importrun"
                    " WHERE id = %s",
                    [self.run_id],
                )
                seen.append(cursor.fetchone())
        finally:
            other.close()

    monkeypatch.setattr(progress_module.ProgressWriter, "update", spy)
    run = register_import(path=path, enqueue_crosscheck=False)

    assert run.status == ImportRun.Status.DONE
    assert len(seen) >= 2  # every 10,000 rows
    assert all(status == "running" for status, _, _ in seen)
    rows = [r for _, r, _ in seen]
    assert rows == sorted(rows)
    assert rows[-1] >= 20_000
    assert 0 < seen[-1][2] <= path.stat().st_size


def test_rate_and_eta_come_from_rows_and_bytes():
    p = ImportProgress(rows=50_000, bytes_read=25_000_000, bytes_total=100_000_000,
                       elapsed_seconds=10.0)  # fmt: skip
    assert p.rows_per_second == 5000
    assert p.fraction == 0.25
    assert p.eta_seconds == 30.0
    assert ImportProgress(0, 0, 100, 0.0).eta_seconds is None


@pytest.mark.django_db
def test_the_admin_shows_rows_rate_and_eta_of_a_running_import(admin_client):
    started = timezone.now() - dt.timedelta(seconds=20)
    run = ImportRun.objects.create(file_name="big.zip", file_sha256="f" * 64,
                                   file_size=1_000_000)  # fmt: skip
    ImportRun.objects.filter(pk=run.pk).update(
        started_at=started,
        progress_rows=40_000,
        progress_bytes=250_000,
        progress_at=started + dt.timedelta(seconds=10),
    )
    page = admin_client.get(reverse("admin:registry_importrun_changelist"))
    html = page.content.decode()
    assert "40,000 rows (25%) · 4,000 rows/s · ETA 30 s" in html
    assert "registry/import_progress.js" in html
    data = admin_client.get(reverse("admin:registry_importrun_progress", args=[run.pk])).json()
    assert (data["rows"], data["rows_per_second"], data["eta_seconds"]) == (40_000, 4000.0, 30)
