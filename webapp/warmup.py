"""What a fresh web process would otherwise do on its first request, done before it takes one.

Django imports the URLconf (every view, serializer and form behind it) and builds each URL
resolver's reverse map on first use, and Celery finds its task modules and loads its broker
transport on the first message sent. Measured on an upload to a fresh process (2026-12-06,
`runs/s43/first_warm.py`, git-ignored): 313-355 ms for the first against 20-27 ms for the next;
44-46 ms after this warm-up. gunicorn recycles each worker every `max_requests`, so without it
one caller in every couple of thousand would wait for all of that.

Nothing here connects to the broker or the database: a web process boots as it did when either
is down (the first upload connects, and answers 503 if it cannot).
"""

from __future__ import annotations

import logging
import time

from django.urls import URLResolver, get_resolver

logger = logging.getLogger(__name__)


def _reverse_maps(resolver: URLResolver) -> int:
    """Build the reverse map of `resolver` and of every namespace under it; how many."""
    resolver.reverse_dict  # noqa: B018 (built on first access)
    return 1 + sum(_reverse_maps(sub) for _prefix, sub in resolver.namespace_dict.values())


def web_process_warm_up() -> None:
    from celery import current_app

    started = time.perf_counter()
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 (imports the URLconf and every view)
    maps = _reverse_maps(resolver)
    tasks = len(current_app.tasks)  # the task modules, found and imported
    current_app.connection_for_write().transport  # noqa: B018 (imports it; no connection)
    current_app.amqp.producer_pool  # noqa: B018
    logger.info(
        "web process warmed up in %.0f ms: %d URL maps, %d tasks",
        (time.perf_counter() - started) * 1000,
        maps,
        tasks,
    )
