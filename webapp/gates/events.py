"""Gate webhooks: each decision of a passage (open or deny, and each change between them) goes
to the gate operators' endpoints subscribed to `gate.passage`, signed and retried like every
webhook (webapp.partners.webhooks): a block-listed plate at a gate reaches the operator's system
as it is refused, with the stay it began or ended, and a plate on the marketplace's watch list
(a car reported stolen) with the list's reason (`watched`). Partners never receive them (the partner
API refuses the subscription, and only operators' endpoints are chosen here)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from webapp.gates.models import Passage, Visit
from webapp.gates.operators import operators
from webapp.partners.models import WebhookEndpoint, WebhookEvent
from webapp.partners.webhooks import webhook_event_emit_to


def passage_decided_emit(
    *, passage: Passage, blocked: bool, visit: Visit | None, passback: bool = False
) -> int:
    """Queue the passage's decision for the operators' endpoints, in the caller's transaction;
    the deliveries made. `passback`: refused as on site already (a cloned plate?)."""
    return webhook_event_emit_to(
        event=WebhookEvent.GATE_PASSAGE,
        endpoints=operators_endpoints(),
        data={**_payload(passage, blocked, visit), "passback": passback},
    )


def operators_endpoints() -> QuerySet[WebhookEndpoint]:
    """The endpoints of gate operators (staff, or the group's members): the only receivers of
    gate events."""
    return WebhookEndpoint.objects.filter(operators(user_field="owner")).distinct().order_by("id")


def visit_data(visit: Visit) -> dict[str, object]:
    return {
        "id": visit.pk,
        "state": visit.state,
        "entered_at": _iso(visit.entered_at),
        "exited_at": _iso(visit.exited_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _payload(passage: Passage, blocked: bool, visit: Visit | None) -> dict[str, object]:
    gate = passage.gate
    return {
        "passage_id": passage.pk,
        "gate": gate.name,
        "direction": gate.direction,
        "site": gate.site.name if gate.site is not None else None,
        "plate": passage.voted_plate,
        "confidence": round(passage.confidence, 4),
        "decision": passage.decision,
        "reason": passage.reason,
        "blocked": blocked,
        "watched": passage.watched or None,
        "first_frame_at": _iso(passage.started_at),
        "decided_at": _iso(passage.decided_at),
        "frames": passage.frames_count,
        "visit": None if visit is None else visit_data(visit),
    }
