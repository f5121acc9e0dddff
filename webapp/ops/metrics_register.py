"""How current the register is, for /metrics (webapp/ops/metrics.py collects it): when an import
last finished whole, when the scheduled look at the source last went through, and whether the
newest look failed."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Max, Q
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


def register_freshness() -> Iterator[Metric]:
    from registry.fetch import DONE
    from registry.models import RegisterFetch
    from registry.selectors import register_age

    age = register_age()
    fetches = RegisterFetch.objects.aggregate(
        looked=Max(
            "finished_at", filter=Q(outcome__in=(*DONE, RegisterFetch.Outcome.NOT_MODIFIED))
        ),
        failed=Count("id", filter=Q(outcome=RegisterFetch.Outcome.FAILED)),
    )
    newest = (
        RegisterFetch.objects.filter(finished_at__isnull=False)
        .order_by("-finished_at", "-id")
        .values_list("outcome", flat=True)
        .first()
    )
    last_import = GaugeMetricFamily(
        "platecheck_register_last_import_timestamp_seconds",
        "When a register import last finished whole (absent: never); the source publishes monthly",
    )
    last_fetch = GaugeMetricFamily(
        "platecheck_register_fetch_last_success_timestamp_seconds",
        "When a look at the register's source last went through: imported, unchanged or not "
        "modified (absent: never)",
    )
    imported = age.imported_at if age else None
    for family, at in ((last_import, imported), (last_fetch, fetches["looked"])):
        if at is not None:
            family.add_metric([], at.timestamp())
    failing = GaugeMetricFamily(
        "platecheck_register_fetch_failing",
        "1 when the newest look at the register's source failed (its row says why)",
    )
    failing.add_metric([], float(newest == RegisterFetch.Outcome.FAILED))
    failures = CounterMetricFamily(
        "platecheck_register_fetch_failures", "Looks at the register's source that failed"
    )
    failures.add_metric([], fetches["failed"])
    yield from (last_import, last_fetch, failing, failures)
