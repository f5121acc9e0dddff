"""Prometheus figures read at scrape time, next to django-prometheus' request metrics.

Request latency and counts come from django-prometheus' middleware. What the database and the
broker know (photos by status, queue depth, register import progress, recognition latency, gate
passages and cameras, webhook deliveries, the orphaned-media sweep's and the retention purge's
totals) is collected here when Prometheus scrapes, so no process has to keep counters in step:
the worker's latencies are read back from the readings it stored, the sweeps' counts from their
rows. The one counter kept in process is `platecheck_media_write_failures_total`
(webapp/storage.py): a refused write leaves no row to count from.
"""

from __future__ import annotations

import logging
import os
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from webapp.ops.metrics_register import register_freshness

logger = logging.getLogger(__name__)

# Recognition latency is summarised over the readings of this window (bounded row count).
LATENCY_WINDOW = timedelta(hours=1)
LATENCY_MAX_ROWS = 5000
# Upper bounds (seconds) of the latency histogram's buckets: a CPU photo takes 0.2-1 s, a GPU one
# a few tens of milliseconds.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Fresh photos, the nightly backlog, gate frames and everything else (webapp/settings.py).
QUEUES = ("recognition", "backlog", "gates", "default")
# The engine's stages; a photo with no plate read surely also has its second look's time, and
# one still without after that its zoomed-out third look's.
STAGES = ("detect_ms", "rectify_ms", "read_ms", "second_look_ms", "zoom_out_ms")

_registered = False


def _by_status(name: str, documentation: str, model: Any) -> GaugeMetricFamily:
    """Rows of `model` counted by its `status` field, every status present (0 where none)."""
    from django.db.models import Count

    family = GaugeMetricFamily(name, documentation, labels=["status"])
    counts = dict(model.objects.values_list("status").annotate(n=Count("*")).order_by())
    for status, _label in model.Status.choices:
        family.add_metric([status], counts.get(status, 0))
    return family


def _photos() -> Iterator[Metric]:
    from webapp.listings.models import Photo

    yield _by_status("platecheck_photos", "Photos by recognition status", Photo)
    unknown = Photo.objects.filter(status=Photo.Status.DONE, plate_areas__isnull=True).count()
    yield GaugeMetricFamily(
        "platecheck_photos_areas_unknown",
        "Photos read before their plate areas were kept: no copy fit to publish until the "
        "backlog reads them again",
        value=unknown,
    )


def _queue_depth() -> Iterator[Metric]:
    url = "" if settings.CELERY_TASK_ALWAYS_EAGER else settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return
    import redis

    family = GaugeMetricFamily(
        "platecheck_celery_queue_depth", "Messages waiting in a Celery queue", labels=["queue"]
    )
    client = redis.Redis.from_url(url, socket_timeout=1.0)
    try:
        for queue in QUEUES:
            family.add_metric([queue], client.llen(queue))
    finally:
        client.close()
    yield family


def _imports() -> Iterator[Metric]:
    from registry.models import ImportRun

    rows = GaugeMetricFamily(
        "platecheck_register_import_rows", "Rows read by a running register import", labels=["run"]
    )
    rate = GaugeMetricFamily(
        "platecheck_register_import_rows_per_second", "Rows/s of a running import", labels=["run"]
    )
    eta = GaugeMetricFamily(
        "platecheck_register_import_eta_seconds", "Seconds left of a running import", labels=["run"]
    )
    for run in ImportRun.objects.filter(status=ImportRun.Status.RUNNING):
        progress = run.progress()
        rows.add_metric([str(run.pk)], progress.rows)
        rate.add_metric([str(run.pk)], progress.rows_per_second)
        if progress.eta_seconds is not None:
            eta.add_metric([str(run.pk)], progress.eta_seconds)
    yield from (rows, rate, eta)


def _recognition_latency() -> Iterator[Metric]:
    from recognition.models import Reading

    since = timezone.now() - LATENCY_WINDOW
    timings = list(
        Reading.objects.filter(source=Reading.Source.ENGINE, created_at__gte=since)
        .order_by("-id")
        .values_list("timings", flat=True)[:LATENCY_MAX_ROWS]
    )
    family = GaugeMetricFamily(
        "platecheck_recognition_latency_seconds",
        "Per-photo recognition time by stage over the last hour (quantiles of stored readings)",
        labels=["stage", "quantile"],
    )
    histogram = GaugeHistogramMetricFamily(
        "platecheck_recognition_latency_hour_seconds",
        "Per-photo recognition time by stage over the last hour, in buckets (a gauge histogram: "
        "the counts are the window's, so histogram_quantile() reads it without rate())",
        labels=["stage"],
    )
    for stage in (*STAGES, "total"):
        # Readings of other engine versions may lack a stage: drop the gaps before sorting.
        seconds = (_stage_seconds(t, stage) for t in timings if isinstance(t, dict))
        values = [v for v in seconds if v is not None]
        _quantiles(family, [stage.removesuffix("_ms")], values)
        if values:
            buckets = [(str(le), sum(v <= le for v in values)) for le in LATENCY_BUCKETS]
            histogram.add_metric(
                [stage.removesuffix("_ms")], [*buckets, ("+Inf", len(values))], sum(values)
            )
    yield family
    yield histogram


def _quantiles(family: GaugeMetricFamily, labels: list[str], values: list[float]) -> None:
    """p50, p95 and p99 of `values` as samples of `family` (nothing for fewer than two)."""
    if len(values) < 2:
        return
    cuts = statistics.quantiles(sorted(values), n=100)
    for q, cut in (("0.5", cuts[49]), ("0.95", cuts[94]), ("0.99", cuts[98])):
        family.add_metric([*labels, q], cut)


def _gates() -> Iterator[Metric]:
    from django.db.models import Count

    from webapp.gates.commands import command_status
    from webapp.gates.models import Device, GateCommand, Passage
    from webapp.gates.stays import site_statuses

    now = timezone.now()
    since = now - LATENCY_WINDOW
    passages = GaugeMetricFamily(
        "platecheck_gate_passages",
        "Gate passages over the last hour, by gate and decision",
        labels=["gate", "decision"],
    )
    recent = Passage.objects.filter(last_frame_at__gte=since)
    for gate, decision, n in (
        recent.values_list("gate__name", "decision").annotate(n=Count("*")).order_by()
    ):
        passages.add_metric([gate, decision], n)
    watched = GaugeMetricFamily(
        "platecheck_gate_watched_passages",
        "Gate passages over the last hour whose plate is on the watch list, by gate and reason",
        labels=["gate", "reason"],
    )
    for gate, reason, n in (
        recent.exclude(watched="").values_list("gate__name", "watched").annotate(n=Count("*"))
    ).order_by():
        watched.add_metric([gate, reason], n)
    decide = GaugeMetricFamily(
        "platecheck_gate_decision_seconds",
        "From a passage's first frame to the gate's decision, over the last hour",
        labels=["quantile"],
    )
    _quantiles(
        decide,
        [],
        [
            ms / 1000
            for ms in recent.exclude(decide_ms=None)
            .order_by("-id")
            .values_list("decide_ms", flat=True)[:LATENCY_MAX_ROWS]
        ],
    )
    silent = GaugeMetricFamily(
        "platecheck_gate_device_silent_seconds",
        "Seconds since an active gate camera's last request (a camera that never called: absent)",
        labels=["gate", "device"],
    )
    for gate, device, seen in Device.objects.filter(
        is_active=True, last_seen_at__isnull=False
    ).values_list("gate__name", "device_id", "last_seen_at"):
        silent.add_metric([gate, device], (now - seen).total_seconds())
    inside = GaugeMetricFamily(
        "platecheck_site_vehicles_inside",
        "Vehicles on a site now: let in by an entry gate, not yet seen by an exit gate",
        labels=["site"],
    )
    overstaying = GaugeMetricFamily(
        "platecheck_site_vehicles_overstaying",
        "Vehicles on a site for longer than its max_stay_hours (sites that set one)",
        labels=["site"],
    )
    for status in site_statuses(now=now):
        inside.add_metric([status.site.name], status.inside)
        if status.site.max_stay_hours:
            overstaying.add_metric([status.site.name], status.overstaying)
    orders = GaugeMetricFamily(
        "platecheck_gate_orders",
        "Operators' orders to open a gate, made over the last hour, by gate and state (lapsed: "
        "no device of the gate asked in time; failed: its relay did not answer)",
        labels=["gate", "state"],
    )
    states = Counter(
        (order.gate.name, command_status(order, now=now))
        for order in GateCommand.objects.filter(created_at__gte=since).select_related("gate")
    )
    for (gate, state), n in sorted(states.items()):
        orders.add_metric([gate, state], n)
    yield from (passages, watched, decide, silent, inside, overstaying, orders)


def _webhooks() -> Iterator[Metric]:
    from django.db.models import Min

    from webapp.partners.models import WebhookDelivery, WebhookEndpoint

    deliveries = _by_status(
        "platecheck_webhook_deliveries", "Webhook deliveries by status", WebhookDelivery
    )
    # A disabled endpoint's deliveries wait for its partner, not for us: counted, the figure
    # would grow for ever once any endpoint is off (that has its own gauge below).
    oldest = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, endpoint__is_active=True
    ).aggregate(at=Min("created_at"))["at"]
    waiting = GaugeMetricFamily(
        "platecheck_webhook_oldest_pending_seconds",
        "Age of the oldest webhook delivery to an active endpoint not yet delivered "
        "(0: none waiting)",
    )
    waiting.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
    disabled = GaugeMetricFamily(
        "platecheck_webhook_endpoints_disabled",
        "Partner webhook endpoints switched off after failing deliveries in a row",
    )
    disabled.add_metric([], WebhookEndpoint.objects.filter(is_active=False).count())
    yield from (deliveries, waiting, disabled)


def _usage() -> Iterator[Metric]:
    """Each partner's photos read this month and their quota (partners are few)."""
    from webapp.partners.usage import usage_month_by_partner

    used = GaugeMetricFamily(
        "platecheck_partner_photos_month",
        "Photos read for each partner this month (stored, recognised and redacted together)",
        labels=["partner"],
    )
    quota = GaugeMetricFamily(
        "platecheck_partner_quota",
        "Each partner's monthly quota of photos (0: no limit), for those who used any",
        labels=["partner"],
    )
    for partner, (count, limit) in sorted(usage_month_by_partner().items()):
        used.add_metric([partner], count)
        quota.add_metric([partner], limit)
    yield from (used, quota)


def _crosschecks() -> Iterator[Metric]:
    from recognition.models import CrosscheckRequest

    family = GaugeMetricFamily(
        "platecheck_crosschecks_due",
        "Listings waiting for a cross-check: due (the sweeper sends them) or given up (the check "
        "raised CROSSCHECK_MAX_FAILURES times; see the admin's cross-check requests)",
        labels=["state"],
    )
    due = CrosscheckRequest.objects.due()
    family.add_metric(["due"], due.given_up(False).count())
    family.add_metric(["given_up"], due.given_up().count())
    yield family


def _run_totals(model: Any, key: str, *summed: str) -> dict[str, tuple[Any, ...]]:
    """A run-record model's rows (MediaSweep, RetentionPurge) per `key`: each `summed` field's
    total, then the last `finished_at` (None: no run got to its end)."""
    from django.db.models import Max, Sum

    rows = model.objects.values_list(key).annotate(*(Sum(f) for f in summed), Max("finished_at"))
    return {row[0]: tuple(row[1:]) for row in rows.order_by()}


def _media_orphans() -> Iterator[Metric]:
    """The orphaned-media sweep's totals, summed over its rows (MediaSweep, two a day, kept):
    counters, whichever worker swept."""
    from webapp.ops.media import UPLOAD_FOLDERS
    from webapp.ops.models import MediaSweep

    deleted = CounterMetricFamily(
        "platecheck_media_orphans_deleted",
        "Files under an upload folder that no row referenced, deleted by the daily sweep",
        labels=["folder"],
    )
    freed = CounterMetricFamily(
        "platecheck_media_orphans_deleted_bytes",
        "Bytes of the files the orphaned-media sweep deleted",
        labels=["folder"],
    )
    failed = CounterMetricFamily(
        "platecheck_media_orphans_failed",
        "Orphaned files the sweep could not delete (its log says why)",
        labels=["folder"],
    )
    finished = GaugeMetricFamily(
        "platecheck_media_sweep_last_finished_timestamp_seconds",
        "When the orphaned-media sweep last went through the folder to its end (absent: never)",
        labels=["folder"],
    )
    totals = _run_totals(MediaSweep, "folder", "deleted", "deleted_bytes", "failed")
    for folder in sorted({u.folder for u in UPLOAD_FOLDERS} | totals.keys()):
        n, size, fails, last = totals.get(folder, (0, 0, 0, None))
        deleted.add_metric([folder], n)
        freed.add_metric([folder], size)
        failed.add_metric([folder], fails)
        if last is not None:
            finished.add_metric([folder], last.timestamp())
    yield from (deleted, freed, failed, finished)


def _retention() -> Iterator[Metric]:
    """The retention purge's totals, summed over its rows (RetentionPurge, three a day, kept)."""
    from webapp.ops.models import RetentionPurge
    from webapp.ops.retention import FRAMES, KINDS

    deleted = CounterMetricFamily(
        "platecheck_retention_deleted",
        "Rows deleted by the daily retention purge, by kind (gate_frames, gate_requests, "
        "webhook_deliveries)",
        labels=["kind"],
    )
    files = CounterMetricFamily(
        "platecheck_retention_files_deleted",
        "Gate frame files the retention purge deleted with their rows",
        labels=["kind"],
    )
    failed = CounterMetricFamily(
        "platecheck_retention_files_failed",
        "Gate frame files the retention purge could not delete (its log says why)",
        labels=["kind"],
    )
    finished = GaugeMetricFamily(
        "platecheck_retention_last_finished_timestamp_seconds",
        "When the retention purge last went through a kind to its end (absent: never)",
        labels=["kind"],
    )
    totals = _run_totals(RetentionPurge, "kind", "deleted", "files_deleted", "files_failed")
    for kind in sorted(set(KINDS) | totals.keys()):
        n, n_files, fails, last = totals.get(kind, (0, 0, 0, None))
        deleted.add_metric([kind], n)
        if kind == FRAMES:
            files.add_metric([kind], n_files)
            failed.add_metric([kind], fails)
        if last is not None:
            finished.add_metric([kind], last.timestamp())
    yield from (deleted, files, failed, finished)


def _backups() -> Iterator[Metric]:
    """The last good backup, the last restore that proved one, and the backups that failed."""
    from django.db.models import Count, Max, Q

    from webapp.ops.models import Backup

    figures = Backup.objects.aggregate(
        made=Max("finished_at", filter=Q(ok=True)),
        verified=Max("verified_at", filter=Q(verify_ok=True)),
        failed=Count("id", filter=Q(ok=False, finished_at__isnull=False)),
        refuted=Count("id", filter=Q(verify_ok=False)),
    )
    made = GaugeMetricFamily(
        "platecheck_backup_last_success_timestamp_seconds",
        "When the last whole backup finished (absent: never); alert when over a day old",
    )
    verified = GaugeMetricFamily(
        "platecheck_backup_last_verified_timestamp_seconds",
        "When a backup last restored with every table's rows as dumped (absent: never)",
    )
    for family, at in ((made, figures["made"]), (verified, figures["verified"])):
        if at is not None:
            family.add_metric([], at.timestamp())
    failures = CounterMetricFamily(
        "platecheck_backup_failures",
        "Backups that could not be made (`failed`) or failed their restore check (`verify`)",
        labels=["stage"],
    )
    failures.add_metric(["failed"], figures["failed"])
    failures.add_metric(["verify"], figures["refuted"])
    yield from (made, verified, failures)


def _stage_seconds(timings: dict, stage: str) -> float | None:
    if stage == "total":
        parts = [timings.get(s) for s in STAGES]
        return sum(float(p) for p in parts if p is not None) / 1000 if any(parts) else None
    value = timings.get(stage)
    return float(value) / 1000 if value is not None else None


class PlatecheckCollector(Collector):
    def describe(self) -> list[Metric]:
        # Without describe(), registering calls collect(): database queries at start-up.
        return []

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "platecheck_metrics_errors", "Collectors that failed this scrape", labels=["part"]
        )
        for name, part in (
            ("photos", _photos),
            ("queues", _queue_depth),
            ("imports", _imports),
            ("recognition", _recognition_latency),
            ("gates", _gates),
            ("webhooks", _webhooks),
            ("crosschecks", _crosschecks),
            ("usage", _usage),
            ("media", _media_orphans),
            ("retention", _retention),
            ("backups", _backups),
            ("register", register_freshness),
        ):
            try:
                yield from list(part())
                errors.add_metric([name], 0)
            except (DatabaseError, OSError, ConnectionError) as exc:
                logger.warning("metrics: %s failed: %s", name, exc)
                errors.add_metric([name], 1)
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail as a whole
                logger.warning("metrics: %s failed: %s", name, exc)
                errors.add_metric([name], 1)
        yield errors


def register_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(PlatecheckCollector())
        _registered = True


def exposition() -> tuple[bytes, str]:
    """The scrape's body and content type.

    Under gunicorn's several processes (PROMETHEUS_MULTIPROC_DIR set), request metrics are
    merged from every process's files, and this module's figures (read from the database, the
    same in every process) are added once.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(PlatecheckCollector())
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
