"""Writes a running import's progress to its run row, for the admin and /metrics.

Through a connection of its own: the loader may be in the middle of a COPY on the main
connection (and, inside a transaction, nobody else could see the row's updates anyway).
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

# Often enough for a live page, rarely enough to cost nothing next to millions of rows.
INTERVAL_SECONDS = 2.0


class ProgressWriter:
    def __init__(self, *, run_id: int, interval: float | None = None) -> None:
        self.run_id = run_id
        self.interval = INTERVAL_SECONDS if interval is None else interval
        self._last = 0.0
        self._connection = None
        # SQLite (the demo) has one writer at a time: a second connection would wait out its lock
        # timeout (5 s) on every update while the import's transaction is open.
        self._enabled = connections["default"].vendor != "sqlite"

    def update(self, *, rows: int, bytes_read: int, force: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        try:
            if self._connection is None:
                self._connection = connections.create_connection("default")
            with self._connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE registry_importrun SET progress_rows = %s, progress_bytes = %s,"
                    " progress_at = %s WHERE id = %s",
                    [rows, bytes_read, timezone.now(), self.run_id],
                )
        except DatabaseError as exc:  # progress is a courtesy; the import must go on
            logger.warning("import %s: progress not written: %s", self.run_id, exc)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
