"""Orders from the gate's operators ("open now", for a driver at the intercom), carried out
while the camera loop runs: a thread asks the server every `poll_s` seconds
(`GET /api/v1/gates/commands/`), pulses the relay for each order the server hands to this
device, prints a JSON line and reports back (`POST /api/v1/gates/commands/done/`).

The server hands out an order once, to one device, and only until it lapses
(`GATE_COMMAND_TTL_S`): that is the check that a device back online does not open for a car long
gone (the Pi's clock, unsynchronised after a power cut, is not trusted with it). While the
server cannot be reached there are no orders: the gate keeps deciding from its cached access
list.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gate_client.protocol import GateApi, Offline, Refused
from gate_client.relay import Relay

logger = logging.getLogger(__name__)


class OrderPoller:
    def __init__(
        self, *, api: GateApi, relay: Relay, emit: Callable[[dict[str, Any]], None], poll_s: float
    ) -> None:
        self.api = api  # its own session: requests' sessions are not shared across threads
        self.relay = relay
        self.emit = emit
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unreachable = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="orders", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.api.timeout_s + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.poll_s)

    def poll_once(self) -> int:
        """Ask once and carry out what is handed over; the number of orders carried out."""
        try:
            orders = self.api.commands()
        except (Offline, Refused) as exc:
            if not self._unreachable:  # once per outage, not every few seconds
                logger.warning("orders not fetched: %s", exc)
            self._unreachable = True
            return 0
        self._unreachable = False
        return sum(self._carry_out(order) for order in orders)

    def _carry_out(self, order: dict[str, Any]) -> bool:
        command_id = int(order["id"])
        by, reason = str(order.get("by", "")), str(order.get("reason", ""))
        detail = ""
        if order.get("action") != "open":
            result, detail = "failed", f"unknown action {order.get('action')!r}"
        else:
            try:
                self.relay.open(reason=f"opened by hand by {by or 'an operator'}: {reason}")
                result = "opened"
            except Exception as exc:  # the relay's hardware: report it, keep polling
                logger.exception("relay failed on order %s", command_id)
                result, detail = "failed", f"relay: {exc}"
        try:
            self.api.command_done(command_id, result=result, detail=detail)
            reported = True
        except (Offline, Refused) as exc:
            # The relay has acted; the server shows the order taken but not reported.
            logger.warning("order %s not reported: %s", command_id, exc)
            reported = False
        self.emit({"event": "order", "command": command_id, "action": order.get("action"),
                   "by": by, "reason": reason, "result": result, "detail": detail,
                   "relay": result == "opened", "reported": reported})  # fmt: skip
        return result == "opened"
