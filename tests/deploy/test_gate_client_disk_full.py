"""The server's media disk fills up while the gate photographs: the real Pi client (a subprocess)
against the live server, whose every write under MEDIA_ROOT fails with ENOSPC until freed.

The gate must not wait: each frame the server cannot store is answered 503 at once, the Pi
decides it from its cached access list and keeps it; once space is freed every frame is stored
exactly once, and no partial file is left of the refused writes.
"""

from __future__ import annotations

import queue
import threading
import time

import pytest

from tests.deploy.conftest import client_command, json_lines, start_client, write_config
from tests.fixtures.disk import media_files
from tests.fixtures.gate_engine import frame_jpeg, teach
from webapp.gates import services
from webapp.gates.models import DeviceRequest, Frame

pytestmark = pytest.mark.django_db(transaction=True)

LISTED = "AA1234BB"
FRAMES = 6


def test_frames_refused_by_a_full_disk_are_decided_from_the_cache_and_stored_once_freed(
    server, gate_engine, gate, tmp_path, settings, full_media_disk
):
    # given a listed car, and a server whose media disk is full
    services.access_entry_add(gate=gate, plate=LISTED)
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(FRAMES):
        body = frame_jpeg(2000 + k)
        (frames / f"{LISTED}_{k:04d}.jpg").write_bytes(body)
        teach(gate_engine, body, LISTED)
    config = write_config(tmp_path, server_url=server.url, gate=gate)
    relay = tmp_path / "relay.jsonl"
    command = client_command(
        config, frames, tmp_path / "state", relay,
        "--interval", "0.3", "--retry", "0.3", "--timeout", "5", "--drain-timeout", "60",
    )  # fmt: skip
    client = start_client(command, tmp_path / "client.log")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=json_lines, args=(client.stdout, lines), daemon=True).start()
    seen: list[dict] = []
    try:
        # when three frames have been taken, the operator frees space
        deadline = time.monotonic() + 60
        while sum("event" not in line for line in seen) < 3 and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            assert line is not None, (tmp_path / "client.log").read_text()
            seen.append(line)
        full_media_disk.free()
        client.wait(timeout=90)
        while (line := lines.get(timeout=5)) is not None:
            seen.append(line)
    finally:
        if client.poll() is None:
            client.kill()
    # then the frames taken while the disk was full were decided at once from the cache,
    # and the listed car was let in
    assert client.returncode == 0, (tmp_path / "client.log").read_text()
    shots = [line for line in seen if "event" not in line]
    assert len(shots) == FRAMES
    refused = shots[:3]
    assert all(line["source"] == "cache" for line in refused), refused
    assert all(line["decision"] == "open" and line["relay"] for line in refused)
    # every frame reached the server exactly once, whole, and no partial file was left
    assert sorted(Frame.objects.values_list("client_frame_id", flat=True)) == sorted(
        line["frame_id"] for line in shots
    )
    stored = {settings.MEDIA_ROOT / f.image.name for f in Frame.objects.all()}
    assert set(media_files(settings)) == stored
    files = {line["frame_id"]: line["file"] for line in shots}
    for frame in Frame.objects.all():
        assert frame.image.read() == (frames / files[frame.client_frame_id]).read_bytes()
    assert DeviceRequest.objects.filter(code="storage_unavailable").count() >= 3
    assert not list((tmp_path / "state" / "queue").glob("*.jpg"))
