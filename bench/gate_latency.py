"""Gate latency: from a frame's POST to the decision, over loopback, with the real engine.

    python bench/gate_latency.py [--runs 3] [--copies 2] [--interval 0.25]

Starts the web app under gunicorn (1 worker, 1 thread) on a throw-away SQLite database with no
broker, so frames are read in the web process by the real engine from models/, exactly the
demo's path. Frames are the sample photos letterboxed to 1280x720 JPEGs. The real Pi client
(deploy/pi, --simulate --once) posts them and reports each frame's POST-to-answer time. The
first frame of a warm-up run loads the engine and is not counted. Prints p50/p95 per run and the
median p95 over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PI_DIR = ROOT / "deploy" / "pi"
SAMPLES = ROOT / "webapp" / "listings" / "sample_data" / "photos"
FRAME_SIZE = (1280, 720)
TARGET_P95_MS = 500.0


def _letterbox(path: Path, out: Path) -> None:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    scale = min(FRAME_SIZE[0] / rgb.width, FRAME_SIZE[1] / rgb.height)
    size = (round(rgb.width * scale), round(rgb.height * scale))
    canvas = Image.new("RGB", FRAME_SIZE, (0, 0, 0))
    canvas.paste(rgb.resize(size), ((FRAME_SIZE[0] - size[0]) // 2, (FRAME_SIZE[1] - size[1]) // 2))
    canvas.save(out, format="JPEG", quality=85)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not come up")


def _client_run(
    config: Path, frames: Path, state: Path, interval: float, timeout: float = 30.0
) -> list[dict]:
    command = [
        sys.executable, "-m", "gate_client", "--config", str(config), "--simulate", str(frames),
        "--once", "--interval", str(interval), "--relay", "log", "--state-dir", str(state),
        "--timeout", str(timeout), "--offline-reader", "none",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=PI_DIR, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(PI_DIR)},
    )  # fmt: skip
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    offline = [line for line in lines if line.get("source") != "server"]
    if done.returncode != 0 or offline:
        raise SystemExit(f"client failed ({done.returncode}): {offline[:2]}\n{done.stderr[-2000:]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2, help="Times each sample photo is sent.")
    parser.add_argument("--interval", type=float, default=0.25, help="Seconds between frames.")
    parser.add_argument(
        "--engine",
        default="recognition.pipeline.engine:load_engine",
        help="PLATECHECK_ENGINE; tests.fixtures.engine_double:load_engine measures the gate's "
        "own overhead (protocol, storage, voting) without the engine's time.",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp_name:
        tmp = Path(tmp_name)
        frames, warm = tmp / "frames", tmp / "warm"
        frames.mkdir()
        warm.mkdir()
        samples = sorted(SAMPLES.glob("*.jpg"))
        for copy in range(args.copies):
            for path in samples:
                _letterbox(path, frames / f"{path.stem}_{copy}.jpg")
        _letterbox(samples[0], warm / samples[0].name)
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "",
            "MEDIA_ROOT": str(tmp / "media"),
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "LOG_LEVEL": "WARNING",
            "GATE_FRAMES_PER_MINUTE": "100000",
            "PLATECHECK_ENGINE": args.engine,
        }
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "gate_add", "bench")
        config = tmp / "config.json"
        _manage(env, "gate_device_add", "--gate", "bench", "--config-out", str(config),
                "--server", f"http://127.0.0.1:{port}")  # fmt: skip
        plates = sorted({path.stem.split("_")[0] for path in samples})
        for plate in plates[::2]:  # half the cars are let in, half are not
            _manage(env, "gate_allow", "--gate", "bench", plate)
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "webapp.wsgi", "-b",
             f"127.0.0.1:{port}", "--workers", "1", "--threads", "1", "--timeout", "300"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp / "server.log").open("w"),
        )  # fmt: skip
        try:
            _wait_healthy(f"http://127.0.0.1:{port}")
            # The first frame loads the engine in the web process (tens of seconds on a busy CPU).
            _client_run(config, warm, tmp / "state-warm", 0.0, timeout=600.0)
            p95s = []
            for run in range(1, args.runs + 1):
                lines = _client_run(config, frames, tmp / f"state-{run}", args.interval)
                ms = np.array([line["latency_ms"] for line in lines])
                read = np.array([line["read_ms"] or 0.0 for line in lines])
                decisions = {d: sum(line["decision"] == d for line in lines)
                             for d in ("open", "deny", "unknown")}  # fmt: skip
                p95s.append(float(np.percentile(ms, 95)))
                print(  # noqa: T201
                    f"run {run}: {len(ms)} frames {FRAME_SIZE[0]}x{FRAME_SIZE[1]}, "
                    f"p50 {np.percentile(ms, 50):.0f} ms, p95 {p95s[-1]:.0f} ms, "
                    f"max {ms.max():.0f} ms (engine alone p50 {np.percentile(read, 50):.0f} ms, "
                    f"p95 {np.percentile(read, 95):.0f} ms); decisions {decisions}"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
        median = statistics.median(p95s)
        verdict = "meets" if median <= TARGET_P95_MS else "misses"
        print(  # noqa: T201
            f"median p95 over {args.runs} runs: {median:.0f} ms ({verdict} the "
            f"{TARGET_P95_MS:.0f} ms target); engine {args.engine}; {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
