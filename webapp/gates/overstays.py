"""Overstays: a car on a site for longer than the site's `max_stay_hours` is sent once, as a
`site.overstay` webhook, to the gate operators' endpoints subscribed to it (beat, every
GATE_OVERSTAY_CHECK_MINUTES). The site page and /metrics show overstays as they are; this is
the push, for whoever acts on them (a warden, a billing system)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from webapp.gates.events import operators_endpoints, visit_data
from webapp.gates.models import Site, Visit
from webapp.partners.models import WebhookEndpoint, WebhookEvent
from webapp.partners.webhooks import webhook_event_emit_to

logger = logging.getLogger(__name__)

# Visits told per transaction: a first run after a long pause stays short.
BATCH = 200


def overstays_alert() -> int:
    """Tell the operators of each car that has passed its site's limit, once; the count told."""
    told = 0
    for site in Site.objects.filter(max_stay_hours__isnull=False).order_by("id"):
        while batch := _site_batch(site):
            told += batch
    return told


def _site_batch(site: Site) -> int:
    limit = timedelta(hours=site.max_stay_hours or 0)
    with transaction.atomic():
        now = timezone.now()
        due = list(
            # skip_locked: a visit an exit gate is ending this instant is left for the next run.
            Visit.objects.select_for_update(skip_locked=True)
            .filter(
                site=site,
                state=Visit.State.INSIDE,
                overstay_alerted_at__isnull=True,
                entered_at__lt=now - limit,
            )
            .order_by("entered_at", "id")[:BATCH]
        )
        if not due:
            return 0
        endpoints = list(operators_endpoints())
        for visit in due:
            _emit(site, visit, endpoints, now=now, limit=limit)
        Visit.objects.filter(pk__in=[v.pk for v in due]).update(overstay_alerted_at=now)
    return len(due)


def _emit(
    site: Site,
    visit: Visit,
    endpoints: list[WebhookEndpoint],
    *,
    now: datetime,
    limit: timedelta,
) -> None:
    assert visit.entered_at is not None  # the query's condition
    stayed = now - visit.entered_at
    data = {
        "site": site.name,
        "plate": visit.plate,
        "max_stay_hours": site.max_stay_hours,
        "stayed_minutes": round(stayed.total_seconds() / 60),
        "over_by_minutes": round((stayed - limit).total_seconds() / 60),
        "visit": visit_data(visit),
    }
    webhook_event_emit_to(event=WebhookEvent.SITE_OVERSTAY, endpoints=endpoints, data=data)
    logger.info("visit %s: %s on %s past its %s", visit.pk, visit.plate, site.name, limit)
