"""The server's time as the Pi knows it: the Pi's own clock plus an offset the server taught it.

A Raspberry Pi has no real-time clock: after a power cut it runs on a wrong time until NTP
syncs, and a gate's LAN may have no NTP at all. The server refuses a request signed more than
its GATE_CLOCK_SKEW_S off its own clock as `stale_timestamp`, and says its time in that refusal;
the offset comes from there (as an AWS SigV4 client does on `RequestTimeTooSkewed`). It is kept
in memory only: after a reboot the Pi's clock is another one, and the first refusal teaches it
again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

# A change of the offset worth a warning: a clock stepped or booted wrong, not a request's
# latency, which moves each estimate by a fraction of a second.
OFFSET_LOG_S = 5.0


class ServerClock:
    def __init__(self, local: Callable[[], float] = time.time) -> None:
        self.local = local
        self.offset = 0.0  # the server's clock minus the Pi's, in seconds

    def now(self) -> float:
        return self.local() + self.offset

    def to_server(self, local_time: float) -> float:
        """A moment read on the Pi's clock (a frame's capture), on the server's."""
        return local_time + self.offset

    def learn(self, server_time: float) -> None:
        """The server's clock read now, from its answer to a request of ours."""
        offset = server_time - self.local()
        if abs(offset - self.offset) > OFFSET_LOG_S:
            logger.warning(
                "clock offset to the server: %+.0f s (was %+.0f s); signing by the server's time",
                offset,
                self.offset,
            )
        self.offset = offset
