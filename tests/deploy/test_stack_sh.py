"""deploy/stack.sh with its programs replaced by sleepers: a second `start` must not start a
second beat (every periodic task twice) that `stop` then cannot find."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SLEEPER = "#!/usr/bin/env bash\nexec -a platecheck-fake-$$ sleep 120\n"


def _stack(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(root / "deploy" / "stack.sh"), *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.add(pid)
    return alive


def test_a_second_start_starts_nothing_and_stop_stops_everything(tmp_path):
    # given a copy of deploy/ whose gunicorn and celery only sleep, and a manage.py that succeeds
    root = tmp_path / "app"
    shutil.copytree(REPO / "deploy", root / "deploy", ignore=shutil.ignore_patterns("pi", "env"))
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("gunicorn", "celery"):
        (bin_dir / name).write_text(SLEEPER)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "python").write_text("#!/usr/bin/env bash\nexit 0\n")
    (bin_dir / "python").chmod(0o755)
    started: set[int] = set()
    try:
        # when the operator starts the stack twice
        assert _stack(root, "start").returncode == 0
        first = {int(p.read_text()) for p in (root / "var" / "run").glob("*.pid")}
        started |= first
        assert len(_alive(first)) == len(first) >= 4
        again = _stack(root, "start")
        started |= {int(p.read_text()) for p in (root / "var" / "run").glob("*.pid")}
        # then the second start refuses, and stop leaves nothing running
        assert again.returncode != 0, again.stdout + again.stderr
        assert "already running" in again.stderr
        assert _stack(root, "stop").returncode == 0
        for _ in range(50):
            if not _alive(started):
                break
            subprocess.run(["sleep", "0.1"], check=True)
        assert _alive(started) == set()
    finally:
        for pid in _alive(started):
            os.kill(pid, 9)
