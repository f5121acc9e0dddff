"""End to end: an operator's "open now" reaches the real Pi client, running as a subprocess
against the live test server, while its camera loop denies the car in front of it.

The only stand-ins are at the edges: the relay writes its openings to a file, and the engine
double reports the plate named by each sample photo's file.
"""

from __future__ import annotations

import json
import queue
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import PI_DIR, client_command, json_lines, start_client, write_config
from tests.fixtures.gate_engine import teach
from webapp.gates import commands, services
from webapp.gates.models import GateCommand

if str(PI_DIR) not in sys.path:
    sys.path.insert(0, str(PI_DIR))

from gate_client.orders import OrderPoller  # noqa: E402
from gate_client.protocol import Credentials, GateApi  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = Path(__file__).resolve().parents[2] / "webapp" / "listings" / "sample_data" / "photos"
UNLISTED = "KA0101AM"


def _next_order_line(lines: queue.Queue, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError("the client stopped")
        if line.get("event") == "order":
            return line
    raise AssertionError(f"no order carried out within {timeout_s} s")


def test_an_operator_opens_the_gate_for_a_car_its_list_refuses(
    live_server, gate_engine, gate, moderator, tmp_path
):
    # given: a client watching a car that is not on the list (the camera loop denies it)
    frames = tmp_path / "frames"
    frames.mkdir()
    shutil.copy(SAMPLES / f"{UNLISTED}_a.jpg", frames / f"{UNLISTED}_a.jpg")
    teach(gate_engine, (frames / f"{UNLISTED}_a.jpg").read_bytes(), UNLISTED)
    config = write_config(tmp_path, server_url=live_server.url, gate=gate)
    relay = tmp_path / "relay.jsonl"
    command = client_command(config, frames, tmp_path / "state", relay)
    command.remove("--once")  # keep watching: the folder's car stays at the gate
    command += ["--interval", "0.5", "--command-poll", "0.2"]
    client = start_client(command, tmp_path / "client.log")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=json_lines, args=(client.stdout, lines), daemon=True).start()
    try:
        first = lines.get(timeout=60)
        assert first is not None, (tmp_path / "client.log").read_text()
        assert (first["decision"], first["relay"]) == ("unknown", False)
        assert not relay.exists()

        # when the driver calls the intercom and an operator opens the gate
        order = commands.command_open(gate=gate, by=moderator, reason="intercom: visitor")
        line = _next_order_line(lines, timeout_s=20)
    finally:
        client.terminate()
        client.wait(timeout=30)

    # then the relay fired once, for the order, and the server knows it did
    assert (line["command"], line["result"], line["relay"]) == (order.pk, "opened", True)
    assert line["reported"] is True
    assert (line["by"], line["reason"]) == ("moderator", "intercom: visitor")
    [opening] = [json.loads(row) for row in relay.read_text().splitlines()]
    assert opening["reason"] == "opened by hand by moderator: intercom: visitor"
    order = GateCommand.objects.get(pk=order.pk)
    assert (order.result, order.device.gate_id) == ("opened", gate.pk)
    assert order.done_at is not None


class _StuckRelay:
    """The edge: a relay board that does not answer."""

    def open(self, *, reason: str) -> None:
        raise OSError("relay board not answering")


def test_a_failed_relay_is_reported_and_the_order_not_handed_out_again(server, gate, moderator):
    new = services.device_create(gate=gate)
    api = GateApi(Credentials(server.url, new.device.device_id, new.secret), timeout_s=5)
    printed: list[dict] = []
    poller = OrderPoller(api=api, relay=_StuckRelay(), emit=printed.append, poll_s=1)
    order = commands.command_open(gate=gate, by=moderator, reason="intercom")

    assert poller.poll_once() == 0
    [line] = printed
    assert (line["command"], line["result"], line["relay"]) == (order.pk, "failed", False)
    assert line["reported"] is True
    order.refresh_from_db()
    assert (order.result, order.detail) == ("failed", "relay: relay board not answering")
    assert poller.poll_once() == 0
    assert len(printed) == 1  # handed out once: the operator sees it failed and decides

    # the server gone: no orders, and the poller keeps going
    server.stop()
    assert poller.poll_once() == 0
