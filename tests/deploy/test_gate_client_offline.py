"""Offline: the server stops while the gate keeps photographing, then comes back.

The client must keep every frame (within its bound), open for an access-listed plate from its
cached list, and, once the server is back, deliver every queued frame exactly once and in order.
GATE_OFFLINE_DOWNTIME_S sets how long the server stays down (default 5 s to keep the suite
fast; the issue's drill is 60: GATE_OFFLINE_DOWNTIME_S=60 pytest tests/deploy -k offline).
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import client_command, json_lines, start_client, write_config
from tests.fixtures.gate_engine import frame_jpeg, teach
from webapp.gates import services
from webapp.gates.models import DeviceRequest, Frame

pytestmark = pytest.mark.django_db(transaction=True)

DOWNTIME_S = float(os.environ.get("GATE_OFFLINE_DOWNTIME_S", "5"))
# Two frames a second: the client's default, within the server's live rate.
INTERVAL_S = 0.5
LISTED, OTHER = "AA1234BB", "KA0101AM"


def _frames(folder: Path, engine_dir: Path, count: int) -> list[str]:
    """Frames named `<seq>_<plate>`-style so the simulate reader and the engine agree."""
    folder.mkdir()
    plates = []
    for k in range(count):
        # alternate cars in runs of three, so both decisions happen while offline too
        plate = LISTED if (k // 3) % 2 == 0 else OTHER
        name = f"{plate}_{k:04d}.jpg"
        body = frame_jpeg(1000 + k)
        (folder / name).write_bytes(body)
        teach(engine_dir, body, plate)
        plates.append(name)
    return plates


def test_the_gate_keeps_working_offline_and_delivers_every_frame_once_in_order(
    server, gate_engine, gate, tmp_path
):
    # given
    services.access_entry_add(gate=gate, plate=LISTED)
    count = int((DOWNTIME_S + 6) / INTERVAL_S)
    names = _frames(tmp_path / "frames", gate_engine, count)
    config = write_config(tmp_path, server_url=server.url, gate=gate)
    relay = tmp_path / "relay.jsonl"
    command = client_command(
        config, tmp_path / "frames", tmp_path / "state", relay,
        "--interval", str(INTERVAL_S), "--retry", "0.5", "--timeout", "2",
        "--drain-timeout", "60",
    )  # fmt: skip
    client = start_client(command, tmp_path / "client.log")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=json_lines, args=(client.stdout, lines), daemon=True).start()
    seen: list[dict] = []

    def take_until(predicate, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                return
            seen.append(line)
            if predicate(line):
                return
        raise AssertionError(f"timed out; client log:\n{(tmp_path / 'client.log').read_text()}")

    try:
        # when: three frames answered by the server, then the server goes away
        answered = 0

        def third_answer(line: dict) -> bool:
            nonlocal answered
            answered += line.get("source") == "server"
            return answered >= 3

        take_until(third_answer, timeout=60)
        server.stop()
        stopped = time.monotonic()
        take_until(lambda line: time.monotonic() - stopped >= DOWNTIME_S, timeout=DOWNTIME_S + 30)
        server.start()
        take_until(lambda line: False if line else True, timeout=120)
        client.wait(timeout=60)
    finally:
        if client.poll() is None:
            client.kill()
    # then: the client kept working offline from its cached list
    offline = [line for line in seen if line.get("source") == "cache"]
    assert offline, "no frame was decided offline"
    assert all(line["dropped"] == 0 for line in offline)
    listed_offline = [line for line in offline if line["plate"] == LISTED]
    other_offline = [line for line in offline if line["plate"] == OTHER]
    assert listed_offline
    assert all(line["decision"] == "open" and line["relay"] for line in listed_offline)
    assert all(not line["relay"] for line in other_offline)
    openings = relay.read_text().splitlines()
    assert sum("offline" in json.loads(o)["reason"] for o in openings) == len(listed_offline)
    # every frame reached the server exactly once, the queued ones in capture order
    assert client.returncode == 0, (tmp_path / "client.log").read_text()
    assert Frame.objects.count() == len(names)
    assert sorted(Frame.objects.values_list("client_frame_id", flat=True)) == sorted(
        line["frame_id"] for line in seen if "file" in line and "event" not in line
    )
    queued_ids = [line["frame_id"] for line in offline]
    stored = list(
        Frame.objects.filter(client_frame_id__in=queued_ids).order_by("received_at", "id")
    )
    assert [f.client_frame_id for f in stored] == queued_ids  # arrival order = capture order
    # A frame in flight when the server stopped may have been stored without its answer
    # reaching the gate: the gate queued it, resent it, and the server kept the first copy.
    for frame in stored:
        assert (
            frame.queued
            or DeviceRequest.objects.filter(frame=frame, code="accepted_duplicate").exists()
        )
    assert [f.captured_at for f in stored] == sorted(f.captured_at for f in stored)
    sent = [line["frame_id"] for line in seen if line.get("event") == "queued_sent"]
    assert sent == queued_ids
    assert not list((tmp_path / "state" / "queue").glob("*.jpg"))
    assert DeviceRequest.objects.filter(accepted=False).count() == 0
