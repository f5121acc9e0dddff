"""The gate's loop: for each shot, send it (or queue it), act on the answer, print a JSON line.

Order is kept: while anything is queued, new shots go to the back of the queue, and the queue
is sent oldest first whenever the server answers again. A frame leaves the queue only once the
server has answered for it; a resend after a lost answer carries the same frame id, which the
server stores once. A queued frame the server keeps failing on (5xx) while it takes the frame
behind it is parked (`Spool.park`), so one bad frame cannot hold the queue forever; a server
that fails on every frame is an outage, and the queue waits.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from gate_client.camera import Camera, Shot
from gate_client.protocol import STALE_TIMESTAMP, GateApi, Offline, Refused, ServerError
from gate_client.readers import LocalReader
from gate_client.relay import Relay
from gate_client.rules import decide_offline
from gate_client.spool import Queued, Spool

logger = logging.getLogger(__name__)

# 429: the server is throttling this device. Not a verdict on the frame: keep it and retry.
THROTTLED = 429


def _kept(refusal: Refused) -> bool:
    """Refusals of the request, not of the frame: the device is throttled, or its clock was
    refused even after a retry signed by the server's (a clock being stepped under it). The
    frame is kept and sent later, signed by the clock as then known."""
    return refusal.status == THROTTLED or refusal.code == STALE_TIMESTAMP


class GateClient:
    def __init__(
        self,
        *,
        api: GateApi,
        camera: Camera,
        relay: Relay,
        spool: Spool,
        reader: LocalReader,
        state_dir: Path,
        out: TextIO,
        refresh_s: float = 60.0,
        retry_s: float = 2.0,
        park_after: int = 5,
    ) -> None:
        self.api = api
        self.camera = camera
        self.relay = relay
        self.spool = spool
        self.reader = reader
        self.cache_path = state_dir / "access-list.json"
        self.out = out
        self.out_lock = threading.Lock()
        self.refresh_s = refresh_s
        self.retry_s = retry_s
        self.park_after = park_after
        self.failures: dict[str, int] = {}  # queued frame id -> server errors in a row
        self.next_refresh = 0.0
        self.next_retry = 0.0

    # --- the loop --------------------------------------------------------------------------

    def run(self, *, drain_timeout_s: float = 0.0) -> None:
        for shot in self.camera.shots():
            self._refresh_access_list()
            self.handle(shot)
        deadline = time.monotonic() + drain_timeout_s
        while len(self.spool) and time.monotonic() < deadline:
            self.next_retry = 0.0
            if not self._drain():
                time.sleep(min(self.retry_s, 1.0))

    def handle(self, shot: Shot) -> None:
        if len(self.spool) == 0 or self._drain():
            started = time.perf_counter()
            try:
                answer = self.api.post_frame(
                    shot.jpeg, frame_id=shot.frame_id, captured_at=shot.captured_at, queued=False
                )
                # From the POST to the answer, as the gate waits for it (bench/gate_latency.py).
                answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
            except Offline as exc:
                self._went_offline(exc)
            except Refused as exc:
                if not _kept(exc):
                    self._emit(shot, {"decision": "unknown", "source": "refused",
                                      "code": exc.code, "reason": exc.detail})  # fmt: skip
                    return
                self._went_offline(exc)  # keep the frame, send it later
            else:
                opened = answer.get("decision") == "open"
                if opened:
                    self.relay.open(reason=str(answer.get("reason", "")))
                self._emit(shot, {**answer, "source": "server", "relay": opened})
                return
        self._offline(shot)

    # --- offline ---------------------------------------------------------------------------

    def _went_offline(self, exc: Exception) -> None:
        logger.warning("server unreachable: %s", exc)
        self.next_retry = time.monotonic() + self.retry_s

    def _offline(self, shot: Shot) -> None:
        self.spool.put(
            jpeg=shot.jpeg, frame_id=shot.frame_id, captured_at=shot.captured_at, name=shot.name
        )
        access = self._cached_access_list()
        plate = self.reader.read(shot)
        if access is None:
            decision, reason = "unknown", "offline and no cached access list"
        else:
            zone = ZoneInfo(str(access.get("timezone") or "UTC"))
            taken = self.api.clock.to_server(shot.captured_at)  # the server's clock, if known
            local = datetime.fromtimestamp(taken, tz=zone).replace(tzinfo=None)
            decision, reason = decide_offline(plate, access, local)
        opened = decision == "open"
        if opened:
            self.relay.open(reason=reason)
        self._emit(
            shot,
            {"decision": decision, "plate": plate, "reason": reason, "source": "cache",
             "relay": opened, "queued": len(self.spool), "dropped": self.spool.dropped},
        )  # fmt: skip

    def _drain(self) -> bool:
        """Send queued frames oldest first; True once the queue is empty."""
        if time.monotonic() < self.next_retry:
            return False
        while (entry := self.spool.oldest()) is not None:
            try:
                self._deliver(entry)
            except ServerError as exc:
                self.failures[entry.frame_id] = self.failures.get(entry.frame_id, 0) + 1
                if not self._park_if_poison(entry):
                    self._went_offline(exc)
                    return False
            except Offline as exc:
                self._went_offline(exc)
                return False
        self.failures.clear()
        return True

    def _deliver(self, entry: Queued) -> None:
        """Send one queued frame; it leaves the queue once the server has answered for it.
        Raises Offline (the frame stays queued)."""
        try:
            answer = self.api.post_frame(
                entry.jpeg(), frame_id=entry.frame_id, captured_at=entry.captured_at, queued=True
            )
        except Refused as exc:
            if _kept(exc):  # the frame stays first in the queue
                raise Offline(f"not taken now: {exc}") from exc
            # Sending it again would be refused again; keep the gate's queue moving.
            logger.error("queued frame %s refused: %s", entry.frame_id, exc)
            answer = {"decision": "unknown", "code": exc.code, "reason": exc.detail}
        self.failures.pop(entry.frame_id, None)
        self.spool.remove(entry)
        self.print_line({"event": "queued_sent", "frame_id": entry.frame_id, "file": entry.name,
                     "captured_at": entry.captured_at, **answer})  # fmt: skip

    def _park_if_poison(self, entry: Queued) -> bool:
        """Park `entry` once the server has failed on it `park_after` times in a row and then
        takes the frame queued behind it: the fault is this frame's. True if parked. A server
        that fails on the next frame too is down, and both stay queued in order."""
        if self.failures[entry.frame_id] < self.park_after:
            return False
        following = self.spool.after(entry)
        if following is None:
            return False  # nothing to tell a bad frame from an outage with: wait for a shot
        try:
            self._deliver(following)
        except Offline:
            return False
        parked = self.spool.park(entry)
        failures = self.failures.pop(entry.frame_id)
        logger.error("queued frame %s parked after %d server errors", entry.frame_id, failures)
        self.print_line({"event": "queued_parked", "frame_id": entry.frame_id, "file": entry.name,
                     "captured_at": entry.captured_at, "server_errors": failures,
                     "parked": str(parked)})  # fmt: skip
        return True

    # --- the access list -------------------------------------------------------------------

    def _refresh_access_list(self) -> None:
        if time.monotonic() < self.next_refresh:
            return
        try:
            payload = self.api.access_list()
        except (Offline, Refused) as exc:
            logger.warning("access list not refreshed: %s", exc)
            self.next_refresh = time.monotonic() + min(self.refresh_s, self.retry_s)
            return
        tmp = self.cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload))
        tmp.replace(self.cache_path)
        self.next_refresh = time.monotonic() + self.refresh_s

    def _cached_access_list(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.cache_path.read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    # --- output ----------------------------------------------------------------------------

    def _emit(self, shot: Shot, fields: dict[str, Any]) -> None:
        self.print_line({"file": shot.name, "frame_id": shot.frame_id, **fields})

    def print_line(self, line: dict[str, Any]) -> None:
        """One JSON line; the order poller's thread prints through here too."""
        with self.out_lock:
            self.out.write(json.dumps(line, sort_keys=True) + "\n")
            self.out.flush()
