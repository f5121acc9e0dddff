"""What opens the barrier: a GPIO relay on the Pi, or a stand-in on a laptop."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)


class Relay(Protocol):
    def open(self, *, reason: str) -> None: ...


class GpioRelay:
    """A relay module on a GPIO pin (gpiozero), closed for `pulse_s` to trigger the barrier."""

    def __init__(self, pin: int, *, pulse_s: float, active_high: bool = True) -> None:
        from gpiozero import OutputDevice

        self.device = OutputDevice(pin, active_high=active_high, initial_value=False)
        self.pulse_s = pulse_s

    def open(self, *, reason: str) -> None:
        logger.info("relay on: %s", reason)
        self.device.on()
        time.sleep(self.pulse_s)
        self.device.off()


class LogRelay:
    """No hardware: logs each opening (a laptop, a dry run)."""

    def open(self, *, reason: str) -> None:
        logger.info("relay (log only) open: %s", reason)


class FileRelay:
    """Appends one JSON line per opening to a file: for bench rigs and tests."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self, *, reason: str) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps({"at": time.time(), "reason": reason}) + "\n")


class SerialRelay:
    """One opening at a time: the camera loop and the operators' orders share the relay."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.lock = threading.Lock()

    def open(self, *, reason: str) -> None:
        with self.lock:
            self.relay.open(reason=reason)


def relay_from(spec: str, *, pulse_s: float) -> Relay:
    """`gpio:17`, `log` or `file:PATH`."""
    kind, _, arg = spec.partition(":")
    if kind == "gpio":
        return GpioRelay(int(arg or 17), pulse_s=pulse_s)
    if kind == "file" and arg:
        return FileRelay(Path(arg))
    if kind == "log":
        return LogRelay()
    raise ValueError(f"relay must be gpio:PIN, log or file:PATH, got {spec!r}")
