"""JSON log lines carrying the Celery task id, for the worker journal."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        task_id = _current_task_id()
        if task_id:
            payload["task_id"] = task_id
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def _current_task_id() -> str | None:
    from celery import current_task  # on first use: settings load this module for LOGGING

    request = getattr(current_task, "request", None)
    return getattr(request, "id", None) if request is not None else None
