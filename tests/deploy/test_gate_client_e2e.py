"""End to end: the real Pi client in --simulate mode against the live test server.

The only stand-ins are at the edges: the relay writes its openings to a file, and the engine
double reports the plate named by each sample photo's file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import client_command, start_client, write_config
from tests.fixtures.gate_engine import teach
from webapp.gates import services
from webapp.gates.models import DeviceRequest, Frame, Passage

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = Path(__file__).resolve().parents[2] / "webapp" / "listings" / "sample_data" / "photos"
LISTED, OTHER = "AA1234BB", "KA0101AM"


def test_the_relay_opens_for_a_listed_plate_and_stays_shut_for_another(
    live_server, gate_engine, gate, tmp_path
):
    # given: a gate that lets AA1234BB in, and two cars' photos in the client's folder
    services.access_entry_add(gate=gate, plate=LISTED)
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in (f"{LISTED}_a.jpg", f"{LISTED}_b.jpg", f"{OTHER}_a.jpg", f"{OTHER}_b.jpg"):
        shutil.copy(SAMPLES / name, frames / name)
        teach(gate_engine, (frames / name).read_bytes(), name.split("_")[0])
    config = write_config(tmp_path, server_url=live_server.url, gate=gate)
    relay = tmp_path / "relay.jsonl"
    # when
    command = client_command(config, frames, tmp_path / "state", relay, "--interval", "0.1")
    client = start_client(command, tmp_path / "client.log")
    try:
        out, _ = client.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        client.kill()
        raise
    # then
    lines = [json.loads(line) for line in out.splitlines()]
    assert client.returncode == 0, (tmp_path / "client.log").read_text()
    by_file = {line["file"]: line for line in lines}
    assert [by_file[f"{LISTED}_{s}.jpg"]["decision"] for s in "ab"] == ["open", "open"]
    assert all(by_file[f"{OTHER}_{s}.jpg"]["decision"] != "open" for s in "ab")
    assert all(line["source"] == "server" for line in lines)
    openings = [json.loads(line) for line in relay.read_text().splitlines()]
    assert len(openings) == 2
    assert all(LISTED in o["reason"] for o in openings)
    assert [line["relay"] for line in lines] == [True, True, False, False]
    # the server kept both passages, every frame and an accepted audit row per request
    assert sorted(Passage.objects.values_list("voted_plate", "decision")) == [
        (LISTED, "open"), (OTHER, "unknown"),
    ]  # fmt: skip
    assert Frame.objects.count() == 4
    assert DeviceRequest.objects.filter(accepted=False).count() == 0
    assert DeviceRequest.objects.filter(method="GET", accepted=True).count() >= 1


def test_a_throttled_frame_is_kept_and_delivered_later(
    live_server, gate_engine, gate, tmp_path, settings
):
    # given: a server that takes two live frames a minute from this device
    settings.GATE_FRAMES_PER_MINUTE = 2
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(5):
        shutil.copy(SAMPLES / f"{LISTED}_a.jpg", frames / f"{LISTED}_{k}.jpg")
    teach(gate_engine, (frames / f"{LISTED}_0.jpg").read_bytes(), LISTED)
    config = write_config(tmp_path, server_url=live_server.url, gate=gate)
    # when
    command = client_command(
        config, frames, tmp_path / "state", tmp_path / "relay.jsonl",
        "--interval", "0.05", "--retry", "0.2",
    )  # fmt: skip
    client = start_client(command, tmp_path / "client.log")
    out, _ = client.communicate(timeout=90)
    # then: nothing was lost; the throttled frames came back through the queue
    lines = [json.loads(line) for line in out.splitlines()]
    assert client.returncode == 0
    assert [line.get("source") for line in lines if "event" not in line] == [
        "server", "server", "cache", "cache", "cache",
    ]  # fmt: skip
    assert sum(line.get("event") == "queued_sent" for line in lines) == 3
    assert Frame.objects.count() == 5
    assert Frame.objects.filter(queued=True).count() == 3
    assert DeviceRequest.objects.filter(code="rate_limited").count() >= 1
