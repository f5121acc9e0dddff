"""The Pi client's parts: the bounded queue, signing and the offline rules against the server's."""

from __future__ import annotations

import sys
from datetime import datetime, time
from pathlib import Path

import pytest


def wall(*args: int) -> datetime:
    """A wall-clock moment: access windows are local times with no zone attached."""
    return datetime(*args)  # noqa: DTZ001


PI_DIR = Path(__file__).resolve().parents[2] / "deploy" / "pi"
sys.path.insert(0, str(PI_DIR))

from gate_client import protocol  # noqa: E402
from gate_client import rules as client_rules  # noqa: E402
from gate_client.spool import Spool  # noqa: E402

from webapp.gates import rules as server_rules  # noqa: E402
from webapp.gates import signing  # noqa: E402


def test_the_queue_keeps_order_and_drops_the_oldest_over_its_bound(tmp_path):
    spool = Spool(tmp_path / "q", max_frames=3, max_bytes=10_000)
    for k in range(5):
        spool.put(jpeg=bytes([k]) * 10, frame_id=f"f{k}", captured_at=100.0 + k, name=f"{k}.jpg")
    assert len(spool) == 3
    assert spool.dropped == 2
    kept = []
    while (entry := spool.oldest()) is not None:
        kept.append((entry.frame_id, entry.jpeg()))
        spool.remove(entry)
    assert kept == [("f2", b"\x02" * 10), ("f3", b"\x03" * 10), ("f4", b"\x04" * 10)]


def test_the_queue_bounds_bytes_too(tmp_path):
    spool = Spool(tmp_path / "q", max_frames=100, max_bytes=25)
    for k in range(4):
        spool.put(jpeg=b"x" * 10, frame_id=f"f{k}", captured_at=float(k), name="")
    assert len(spool) == 2


def test_the_queue_survives_a_restart(tmp_path):
    Spool(tmp_path / "q", max_frames=5, max_bytes=10_000).put(
        jpeg=b"jpeg", frame_id="kept", captured_at=1.0, name="a.jpg"
    )
    reopened = Spool(tmp_path / "q", max_frames=5, max_bytes=10_000)
    entry = reopened.oldest()
    assert entry is not None
    assert entry.frame_id == "kept"


def test_what_a_power_cut_leaves_in_the_queue_is_parked_not_left_for_ever(tmp_path):
    # given: a queue of three frames, then what a power cut mid-write and a damaged card leave
    spool = Spool(tmp_path / "q", max_frames=10, max_bytes=10_000)
    for k in range(3):
        spool.put(jpeg=bytes([k]) * 10, frame_id=f"f{k}", captured_at=float(k), name="")
    (tmp_path / "q" / "000000000001.json").write_text("{not json")  # the first entry, damaged
    (tmp_path / "q" / "000000000009.jpg").write_bytes(b"orphan")  # its metadata never written
    (tmp_path / "q" / "000000000010.jpg.tmp").write_bytes(b"half")  # never renamed into place
    # when: the client starts again
    reopened = Spool(tmp_path / "q", max_frames=10, max_bytes=10_000)
    # then: the good frames are sent first, and nothing else is left in the queue's folder
    first = reopened.oldest()
    assert first is not None
    assert (first.frame_id, len(reopened)) == ("f1", 2)
    assert sorted(path.name for path in (tmp_path / "q").iterdir() if path.is_file()) == [
        "000000000002.jpg",
        "000000000002.json",
        "000000000003.jpg",
        "000000000003.json",
    ]
    parked = sorted(path.read_bytes() for path in (tmp_path / "q" / "parked").glob("*.jpg"))
    assert parked == [b"\x00" * 10, b"orphan"]


def test_client_and_server_sign_alike():
    args = {"secret": "s3cret", "method": "POST", "path": "/api/v1/gates/frames/?frame=a",
            "timestamp": "1700000000", "nonce": "abcdefghijklmnop",
            "body": b"\xff\xd8\xff"}  # fmt: skip
    assert protocol.sign(**args) == signing.sign(**args)


WINDOWS = [
    {"days": "01234", "hour_from": time(8), "hour_until": time(18)},
    {"hour_from": time(22), "hour_until": time(6)},
    {"valid_from": wall(2026, 12, 1), "valid_until": wall(2026, 12, 10, 12)},
    {"hour_from": time(12)},
    {},
]
MOMENTS = [wall(2026, 12, d, h, m) for d in (1, 5, 9, 10, 11) for h, m in
           ((0, 0), (5, 59), (8, 0), (12, 0), (17, 59), (18, 0), (22, 30))]  # fmt: skip


@pytest.mark.parametrize("window", WINDOWS)
def test_offline_windows_agree_with_the_server(window):
    for at in MOMENTS:
        assert client_rules.window_admits(client_rules.Window(**window), at) is (
            server_rules.window_admits(server_rules.Window(**window), at)
        ), at


@pytest.mark.parametrize("read", ["AA1234BB", "AA1Z34BB", "AA1234B8", "AA1Z34B8", "AA1234BC"])
@pytest.mark.parametrize("confusable", [True, False])
def test_offline_matching_agrees_with_the_server(read, confusable):
    assert client_rules.plates_match(read, "AA1234BB", allow_confusable=confusable) is (
        server_rules.plates_match(read, "AA1234BB", allow_confusable=confusable)
    )


def test_offline_decisions_from_the_cached_list():
    access = {
        "entries": [{"plate": "AA1234BB", "days": "01234", "hour_from": "08:00:00",
                     "hour_until": "18:00:00", "valid_from": None, "valid_until": None}],
        "blocked": ["BC7777AX"],
        "allow_confusable": False,
    }  # fmt: skip
    wednesday_noon = wall(2026, 12, 2, 12)
    assert client_rules.decide_offline("AA1234BB", access, wednesday_noon)[0] == "open"
    assert client_rules.decide_offline("AA1234BB", access, wall(2026, 12, 5, 12))[0] == "deny"
    assert client_rules.decide_offline("BC7777AX", access, wednesday_noon)[0] == "deny"
    assert client_rules.decide_offline("", access, wednesday_noon)[0] == "unknown"
    access["blocked"] = ["AA1234BB"]
    assert client_rules.decide_offline("AA1234BB", access, wednesday_noon)[0] == "deny"
    # a gate open to all: any plate read opens it offline too, except a blocked one
    access["open_to_all"] = True
    assert client_rules.decide_offline("KA0101AM", access, wall(2026, 12, 5, 12))[0] == "open"
    assert client_rules.decide_offline("AA1234BB", access, wednesday_noon)[0] == "deny"
    assert client_rules.decide_offline("", access, wednesday_noon)[0] == "unknown"


def _video(path: Path, frames: list[int]) -> None:
    """An MJPEG file whose frames are flat grey at the given levels (a camera stand-in)."""
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 180))
    for level in frames:
        writer.write(np.full((180, 320, 3), level, np.uint8))
    writer.release()


def _bright(jpeg: bytes) -> bool:
    """Whether the frame is the bright one (the car): JPEG moves the levels a little."""
    import cv2
    import numpy as np

    return float(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE).mean()) > 125


def test_the_camera_sends_only_frames_with_motion(tmp_path):
    from gate_client.camera import OpenCvCamera

    # given: still, still, a car arrives, it stays, it leaves, still
    _video(tmp_path / "gate.avi", [50, 50, 50, 200, 200, 200, 50, 50])
    camera = OpenCvCamera(
        str(tmp_path / "gate.avi"), interval_s=0.0, on_motion=True, width=320, height=180,
        max_read_failures=0,
    )  # fmt: skip
    # when
    taken = list(camera.shots())
    # then: the first frame (nothing to compare with), the arrival and the departure
    assert [_bright(shot.jpeg) for shot in taken] == [False, True, False]
    assert len({shot.frame_id for shot in taken}) == 3


def test_the_camera_at_a_fixed_rate_sends_every_frame(tmp_path):
    from gate_client.camera import OpenCvCamera

    _video(tmp_path / "gate.avi", [50, 50, 200, 50])
    camera = OpenCvCamera(
        str(tmp_path / "gate.avi"), interval_s=0.0, on_motion=False, width=320, height=180,
        max_read_failures=0,
    )  # fmt: skip
    assert [_bright(shot.jpeg) for shot in camera.shots()] == [False, False, True, False]
