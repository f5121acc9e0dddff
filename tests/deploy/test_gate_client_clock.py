"""A Pi that booted with a wrong clock (no real-time clock, no NTP yet) against the real server.

The client runs in this process against the whole app over real HTTP (live_server) and its real
clock check. The only stand-ins are at the edges: the Pi's clock, the camera (shots are made
here) and the relay (a file).
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.deploy.conftest import PI_DIR
from tests.fixtures.gate_engine import frame_jpeg, teach
from webapp.gates import services
from webapp.gates.models import DeviceRequest, Frame

if str(PI_DIR) not in sys.path:
    sys.path.insert(0, str(PI_DIR))

from gate_client.camera import FolderCamera, Shot  # noqa: E402
from gate_client.client import GateClient  # noqa: E402
from gate_client.protocol import Credentials, GateApi  # noqa: E402
from gate_client.readers import FilenameReader  # noqa: E402
from gate_client.relay import FileRelay  # noqa: E402
from gate_client.spool import Spool  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

LISTED = "AA1234BB"
TWO_HOURS_S = 2 * 3600


class PiClock:
    """The Pi's wall clock, `behind_s` slow; with `drift_s`, it falls that much further behind
    at every read (a clock being stepped about under the client)."""

    def __init__(self, *, behind_s: float) -> None:
        self.behind_s = behind_s
        self.drift_s = 0.0

    def __call__(self) -> float:
        now = time.time() - self.behind_s
        self.behind_s += self.drift_s
        return now


class Pi:
    def __init__(self, *, server_url: str, gate: Any, folder: Path) -> None:
        new = services.device_create(gate=gate)
        self.clock = PiClock(behind_s=TWO_HOURS_S)
        self.out = io.StringIO()
        self.relay = folder / "relay.jsonl"
        self.spool = Spool(folder / "queue", max_frames=100, max_bytes=10_000_000)
        api = GateApi(Credentials(server_url, new.device.device_id, new.secret), clock=self.clock)
        self.client = GateClient(
            api=api,
            camera=FolderCamera(folder, interval_s=0.0, once=True),  # shots come from shoot()
            relay=FileRelay(self.relay),
            spool=self.spool,
            reader=FilenameReader(),
            state_dir=folder,
            out=self.out,
            retry_s=0.0,
        )

    def shoot(self, jpeg: bytes, name: str) -> Shot:
        return Shot(jpeg=jpeg, captured_at=self.clock(), name=name)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.getvalue().splitlines()]


@pytest.fixture
def pi(live_server, gate, tmp_path) -> Iterator[Pi]:
    gate_pi = Pi(server_url=live_server.url, gate=gate, folder=tmp_path)
    yield gate_pi
    # A kept-alive connection would keep a server thread, and its database session, open.
    gate_pi.client.api.session.close()


def _codes() -> list[str]:
    return list(DeviceRequest.objects.order_by("id").values_list("code", flat=True))


def _offset_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "clock offset" in r.getMessage()
    ]


def test_a_pi_two_hours_behind_is_answered_by_the_server_on_its_first_frame(
    pi, gate_engine, gate, caplog
):
    # given: AA1234BB may enter from ten minutes ago on (by the server's clock)
    services.access_entry_add(
        gate=gate, plate=LISTED, valid_from=timezone.now() - timedelta(minutes=10)
    )
    first, second = frame_jpeg(1), frame_jpeg(2)
    teach(gate_engine, first, LISTED)
    teach(gate_engine, second, LISTED)
    caplog.set_level(logging.WARNING, logger="gate_client")
    # when
    pi.client.handle(pi.shoot(first, f"{LISTED}_a.jpg"))
    # then: one refusal for the clock, then the frame decided for the moment it was taken
    assert _codes() == ["stale_timestamp", "accepted"]
    [line] = pi.lines()
    assert (line["source"], line["decision"], line["relay"]) == ("server", "open", True)
    frame = Frame.objects.get()
    assert abs(frame.captured_at - timezone.now()) < timedelta(seconds=30)
    assert len(pi.spool) == 0
    [warning] = _offset_warnings(caplog)
    learned = re.search(r"offset to the server: ([+-]\d+) s", warning)
    assert learned is not None
    assert abs(int(learned.group(1)) - TWO_HOURS_S) <= 2  # less the refusal's way back
    # when: the next frame
    pi.client.handle(pi.shoot(second, f"{LISTED}_b.jpg"))
    # then: it is signed right the first time
    assert _codes() == ["stale_timestamp", "accepted", "accepted"]
    assert pi.lines()[1]["source"] == "server"
    assert len(_offset_warnings(caplog)) == 1


def test_a_second_clock_refusal_in_a_row_is_not_retried_and_the_frame_is_kept(pi, gate_engine):
    # given: a Pi whose clock falls another hour behind at every read
    shot = pi.shoot(frame_jpeg(3), f"{LISTED}_a.jpg")
    pi.clock.drift_s = 3600
    # when
    pi.client.handle(shot)
    # then: one retry with the server's time, refused again, and no third try
    assert _codes() == ["stale_timestamp", "stale_timestamp"]
    # a refusal of the request's clock, not of the frame: it is kept and decided locally
    [line] = pi.lines()
    assert (line["source"], line["frame_id"]) == ("cache", shot.frame_id)
    entry = pi.spool.oldest()
    assert entry is not None
    assert (entry.frame_id, len(pi.spool)) == (shot.frame_id, 1)
    assert Frame.objects.count() == 0


def test_a_frame_queued_before_the_clock_was_known_is_delivered_once(pi, gate_engine):
    # given: a frame left in the queue by a power cut, taken by the Pi's wrong clock
    queued, live = frame_jpeg(4), frame_jpeg(5)
    pi.spool.put(jpeg=queued, frame_id="before-cut", captured_at=pi.clock(), name="q.jpg")
    # when: the next car comes
    pi.client.handle(pi.shoot(live, "live.jpg"))
    # then: the queued frame went after one clock refusal, and left the queue; the live one
    # needed no retry
    assert _codes() == ["stale_timestamp", "accepted", "accepted"]
    sent, answered = pi.lines()
    assert (sent["event"], sent["frame_id"]) == ("queued_sent", "before-cut")
    assert answered["source"] == "server"
    assert len(pi.spool) == 0
    stored = Frame.objects.get(client_frame_id="before-cut")
    assert stored.queued
    assert abs(stored.captured_at - timezone.now()) < timedelta(seconds=30)
